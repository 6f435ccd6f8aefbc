"""GET paths to pages: `/`, `/claims/{watch}/{claim}`, `/alerts`, `/feeds`.

Read-only, and strict about what a browser may do with a page: no script runs (none is
needed), nothing is loaded from elsewhere, the only styles are the pages' own (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import store
from monitor.rules import Rules
from monitor.web import chart, pages, read

log = logging.getLogger(__name__)


def _hash(style: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"


HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {_hash(pages.STYLE)} {_hash(chart.STYLE)}; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # an article's site need not learn the monitor's address
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=lambda: HEADERS)


class Web:
    """The pages of one database; `rules()` gives the running rules (they reload on SIGHUP)."""

    def __init__(self, engine: Engine, rules: Callable[[], Rules]) -> None:
        self.engine = engine
        self.rules = rules

    def __call__(self, target: str) -> Response:
        """The page for a request target ("/claims/w/c?page=2"); 404 for any other path."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        try:
            if url.path == "/":
                return self._index()
            if url.path == "/alerts":
                return self._alerts(_page(query))
            if url.path == "/feeds":
                return self._feeds()
            if len(parts) == 3 and parts[0] == "claims":
                return self._claim(parts[1], parts[2], _page(query), query.get("in"))
        except SQLAlchemyError as exc:
            log.warning("page %s: database error: %s", url.path, exc)
            return _problem(
                503,
                "Database unavailable",
                "The monitor's database did not answer, so this page cannot be shown. "
                "Try again in a moment; `monitor status` and /healthz say more.",
            )
        return _problem(
            404,
            "Not found",
            f"There is no page at {url.path}. The pages are / (every claim), "
            "/claims/WATCH/CLAIM, /alerts and /feeds; /healthz and /metrics are for machines.",
        )

    def _index(self) -> Response:
        titles = {w.watch: w.title for w in self.rules().watches}
        with store.session(self.engine) as s:
            summaries = read.claims(s, titles)
        return _ok(pages.index(summaries))

    def _claim(self, watch: str, claim: str, page: int, currency: str | None) -> Response:
        with store.session(self.engine) as s:
            story = read.story(s, watch, claim)
        if story is None:
            return _problem(
                404,
                "No such claim",
                f"There is no claim {claim!r} in watch {watch!r}; the front page (/) lists "
                "every claim.",
            )
        if currency not in (story.currency, "USD"):
            currency = story.currency
        return _ok(pages.claim(story, chart.draw(story, currency), page))

    def _alerts(self, page: int) -> Response:
        with store.session(self.engine) as s:
            total, entries = read.outbox(s, (max(page, 1) - 1) * pages.PAGE_SIZE, pages.PAGE_SIZE)
        return _ok(pages.alerts(total, entries, page))

    def _feeds(self) -> Response:
        feeds = {url: (w.watch, rule.every) for url, (w, rule) in self.rules().feeds().items()}
        with store.session(self.engine) as s:
            rows = read.feeds(s, feeds)
        return _ok(pages.feeds(rows))


def _page(query: dict[str, str]) -> int:
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1


def _ok(html: str) -> Response:
    return Response(200, html.encode("utf-8"))


def _problem(status: int, title: str, message: str) -> Response:
    return Response(status, pages.problem(title, message).encode("utf-8"))
