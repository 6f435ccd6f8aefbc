"""A claim with many reports, written straight into the tables: for the pages' tests and
bench/render.py, where the pipeline's own path (`monitor.demo.record_demo`) is too slow or
cannot make the report wanted (a hostile headline, 10,000 observations)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert, select
from sqlmodel import col

from monitor import store
from monitor.store import ArticleRow, ClaimRow, ObservationRow

WATCH, CLAIM = "chips", "cluster"
OUTCOMES = ("unchanged", "corroboration", "change", "dismissed", "context")
START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def seed(
    engine: Engine,
    n: int,
    *,
    title: Callable[[int], str] = lambda i: f"Report {i}: the cluster gets 622조원",
    url: Callable[[int], str] = lambda i: f"https://news.example/{i}",
) -> None:
    """Claim chips/cluster (622조원, KRW) and `n` reports of it, one a day per 10, from 7
    outlets; every fifth in USD (a conversion), every seventh a range, outcomes in turn."""
    with store.session(engine) as s:
        s.add(
            ClaimRow(
                watch=WATCH,
                id=CLAIM,
                title="Korea's chip cluster, total investment",
                value="622조원",
                low=622e12,
                high=622e12,
                currency="KRW",
                as_of=date(2024, 1, 1),
                tolerance=0.05,
            )
        )
    articles, observations = [], []
    for i in range(n):
        usd = i % 5 == 4
        low = 467e9 if usd else 622e12 * (1 + (i % 9) / 100)
        high = low * (1.1 if i % 7 == 6 else 1)
        articles.append(
            {
                "url": url(i),
                "guid": f"g{i}",
                "title": title(i),
                "title_key": f"k{i}",
                "published": START + timedelta(hours=2.4 * i),
                "publisher": f"Outlet {i % 7}",
                "lang": "ko",
                "feed_url": "https://news.example/feed.xml",
                "fetched_at": START,
            }
        )
        observations.append(
            {
                "watch": WATCH,
                "claim": CLAIM,
                "article_id": url(i),  # its id, once the article is stored
                "start": 0,
                "text": "$467 billion" if usd else "622조원",
                "low": low,
                "high": high,
                "currency": "USD" if usd else "KRW",
                "qualifier": "exact",
                "role": "value",
                "usd_low": low if usd else low / 1330,
                "usd_high": high if usd else high / 1330,
                "quote": f"quote {i}: 정부는 622조원을 투입한다",
                "why": "held by korea (its clause)",
                "outcome": OUTCOMES[i % len(OUTCOMES)],
                "observed_at": START,
            }
        )
    with store.session(engine) as s:
        for start in range(0, n, 2000):
            s.execute(insert(ArticleRow), articles[start : start + 2000])
        ids = dict(s.execute(select(col(ArticleRow.url), col(ArticleRow.id))).all())
        for o in observations:
            o["article_id"] = ids[o["article_id"]]
        for start in range(0, n, 2000):
            s.execute(insert(ObservationRow), observations[start : start + 2000])
