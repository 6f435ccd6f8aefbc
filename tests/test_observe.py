"""Stage Observation -> Change on a real database (SQLite and PostgreSQL): which report
makes the alert, what it is compared with, and what a corroboration carries."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import select

from monitor import store
from monitor.alerts import render
from monitor.articles import Article
from monitor.observe import store_articles, sync_claims
from monitor.rules import Watch, load_rules
from monitor.store import AlertRow, ArticleRow, ObservationRow

WATCH = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman]
  openai: [OpenAI]
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
  - id: openai-valuation
    about: [openai]
    topic: [valuation, valued]
    value: "$100 billion"
    as_of: 2024-02-08
"""


@pytest.fixture
def watch(tmp_path: Path, engine: Engine) -> Watch:
    path = tmp_path / "chips.yaml"
    path.write_text(WATCH, encoding="utf-8")
    rules = load_rules(path)
    sync_claims(engine, rules)
    return rules.watches[0]


def venture(slug: str, amount: str, published: datetime) -> Article:
    """An article that reports `amount` as the chip venture's target."""
    text = f"Sam Altman said the chip venture could need {amount}."
    return _article(slug, f"Altman's chip plan: {amount}", text, published)


def valuation(slug: str, amount: str, published: datetime) -> Article:
    text = f"OpenAI is now valued at {amount}, a valuation set by its latest round."
    return _article(slug, f"OpenAI valuation reaches {amount}", text, published)


def _article(slug: str, title: str, summary: str, published: datetime) -> Article:
    url = f"https://{slug}.example/story"
    return Article(url, title, summary, published, slug.title(), "en", url, "https://feed.example/")


def day(year: int, month: int, d: int, hour: int = 12) -> datetime:
    return datetime(year, month, d, hour, tzinfo=UTC)


def _alerts(engine: Engine) -> list[AlertRow]:
    with store.session(engine) as s:
        return list(s.exec(select(AlertRow).order_by(AlertRow.id)).all())  # type: ignore[arg-type]


def _payload(alert: AlertRow) -> dict[str, object]:
    return json.loads(alert.payload)  # type: ignore[no-any-return]


def _outcomes(engine: Engine) -> dict[str, str]:
    with store.session(engine) as s:
        rows = s.exec(
            select(ArticleRow.url, ObservationRow.outcome).join(
                ObservationRow, ObservationRow.article_id == ArticleRow.id
            )
        ).all()
    return {url: outcome for url, outcome in rows}


def test_values_a_rounded_key_merged_are_two_alerts(engine: Engine, watch: Watch) -> None:
    """$165bn and $156bn are 5.5% apart (tolerance 5%): two values, two alerts, each its own."""
    store_articles(engine, watch, [valuation("a", "$165 billion", day(2024, 5, 1))], channel=None)
    store_articles(engine, watch, [valuation("b", "$156 billion", day(2024, 5, 2))], channel=None)
    alerts = _alerts(engine)
    assert [(a.kind, a.low) for a in alerts] == [("change", 165e9), ("change", 156e9)]
    assert alerts[0].key != alerts[1].key
    message = render(kind="change", key=alerts[1].key, payload=_payload(alerts[1]), channel=None)
    assert "$156 billion" in message.text and "$165 billion" not in message.text.split("was")[0]


def test_a_corroboration_reports_its_own_figure(engine: Engine, watch: Watch) -> None:
    store_articles(engine, watch, [venture("a", "$8 trillion", day(2024, 5, 1))], channel=None)
    store_articles(engine, watch, [venture("b", "$8.2 trillion", day(2024, 5, 2))], channel=None)
    change, reply = _alerts(engine)
    assert (reply.kind, reply.parent_id) == ("corroboration", change.id)
    reported = _payload(reply)["reported"]
    assert reported == {
        "low": pytest.approx(8.2e12),
        "high": pytest.approx(8.2e12),
        "currency": "USD",
        "text": "$8.2 trillion",
        "qualifier": "exact",
    }
    metadata = render(kind="corroboration", key=reply.key, payload=_payload(reply), channel=None)
    assert metadata.metadata["event_payload"]["reported"]["low"] == pytest.approx(8.2e12)  # type: ignore[index]
    assert "$8.2 trillion" in metadata.text


def test_was_is_the_value_known_when_the_story_was_published(engine: Engine, watch: Watch) -> None:
    """A 2024 story is compared with what was on record in 2024, not a 2026 value."""
    store_articles(engine, watch, [venture("new", "$10 trillion", day(2026, 3, 1))], channel=None)
    store_articles(engine, watch, [venture("old", "$8 trillion", day(2024, 6, 1))], channel=None)
    eight = next(a for a in _alerts(engine) if a.low == 8e12)
    previous = _payload(eight)["previous"]
    assert (previous["low"], previous["high"], previous["as_of"]) == (5e12, 7e12, "2024-02-08")  # type: ignore[index]


def test_a_story_before_anything_was_on_record_says_so(engine: Engine, watch: Watch) -> None:
    store_articles(engine, watch, [venture("early", "$3 trillion", day(2023, 11, 1))], channel=None)
    (alert,) = _alerts(engine)
    payload = _payload(alert)
    assert payload["previous"]["as_of"] == "2024-02-08"  # type: ignore[index]
    message = render(kind="change", key=alert.key, payload=payload, channel=None)
    summary = message.blocks[1]["text"]["text"]
    assert "Nothing was on record yet when it was published" in summary
    assert message.metadata["event_payload"]["previous"]["as_of"] == "2024-02-08"  # type: ignore[index]


def test_within_one_call_the_first_publisher_gets_the_alert(engine: Engine, watch: Watch) -> None:
    later = venture("later", "$8 trillion", day(2024, 5, 2))
    earlier = venture("earlier", "$8 trillion", day(2024, 5, 1))
    store_articles(engine, watch, [later, earlier], channel=None)
    change, reply = _alerts(engine)
    assert _payload(change)["article_url"] == earlier.url
    assert (reply.kind, _payload(reply)["article_url"]) == ("corroboration", later.url)


def test_an_earlier_report_read_later_takes_over_an_unsent_alert(
    engine: Engine, watch: Watch
) -> None:
    later = venture("later", "$8 trillion", day(2024, 5, 2))
    earlier = venture("earlier", "$8.1 trillion", day(2024, 5, 1, 6))
    store_articles(engine, watch, [later], channel=None)
    store_articles(engine, watch, [earlier], channel=None)
    change, reply = _alerts(engine)
    payload = _payload(change)
    assert payload["article_url"] == earlier.url
    assert payload["publisher"] == "Earlier"
    assert payload["published"] == earlier.published.isoformat()
    assert "$8.1 trillion" in str(payload["quote"])
    assert payload["reported"]["low"] == pytest.approx(8.1e12)  # type: ignore[index]
    assert (change.low, change.as_of) == (pytest.approx(8.1e12), earlier.published.date())
    assert (reply.kind, reply.parent_id, change.corroborations) == ("corroboration", change.id, 1)
    assert _payload(reply)["article_url"] == later.url
    assert _payload(reply)["reported"]["low"] == 8e12  # type: ignore[index]
    assert _outcomes(engine) == {earlier.url: "change", later.url: "corroboration"}


def test_an_earlier_report_of_a_sent_alert_is_a_corroboration_that_says_so(
    engine: Engine, watch: Watch
) -> None:
    later = venture("later", "$8 trillion", day(2024, 5, 2))
    earlier = venture("earlier", "$8 trillion", day(2024, 5, 1))
    store_articles(engine, watch, [later], channel=None)
    with store.session(engine) as s:
        s.exec(update(AlertRow).values(status="sent", ts="1.0"))  # type: ignore[call-overload]
    store_articles(engine, watch, [earlier], channel=None)
    change, reply = _alerts(engine)
    assert _payload(change)["article_url"] == later.url
    assert (reply.kind, _payload(reply)["article_url"]) == ("corroboration", earlier.url)
    assert _payload(reply)["published_earlier"] is True
    message = render(kind="corroboration", key=reply.key, payload=_payload(reply), channel=None)
    assert message.metadata["event_payload"]["published_earlier"] is True  # type: ignore[index]
    assert "earlier" in message.text


def test_two_reports_of_one_new_value_at_once_make_one_alert(engine: Engine, watch: Watch) -> None:
    """Concurrent stores of the same new value, as two replicas would: one alert."""
    import threading

    articles = [venture(f"r{i}", "$8 trillion", day(2024, 5, 1, i)) for i in range(4)]
    threads = [
        threading.Thread(target=store_articles, args=(engine, watch, [a]), kwargs={"channel": None})
        for a in articles
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(a.kind for a in _alerts(engine))
    assert kinds == ["change", "corroboration", "corroboration", "corroboration"]


# Cases a review found (each failed before its fix).


def test_a_different_value_within_tolerance_does_not_take_over(
    engine: Engine, watch: Watch
) -> None:
    """$7.61T is within 5% of $8T but not the reverse: the alert keeps its own value."""
    store_articles(engine, watch, [venture("b", "$8 trillion", day(2024, 5, 2))], channel=None)
    store_articles(engine, watch, [venture("a", "$7.61 trillion", day(2024, 5, 1))], channel=None)
    store_articles(engine, watch, [venture("c", "$8.05 trillion", day(2024, 5, 3))], channel=None)
    changes = [a.low for a in _alerts(engine) if a.kind == "change"]
    assert changes == [8e12]


def test_an_edit_takes_no_credit_from_a_report_published_in_between(
    engine: Engine, watch: Watch
) -> None:
    store_articles(engine, watch, [venture("x", "$8 trillion", day(2024, 5, 1))], channel=None)
    y = venture("y", "$9 trillion", day(2024, 5, 3))
    store_articles(engine, watch, [y], channel=None)
    edited = venture("x", "$9 trillion", day(2024, 5, 1))  # edited later, same pubDate
    store_articles(engine, watch, [edited], channel=None, reread={edited.url})
    nine = next(a for a in _alerts(engine) if a.kind == "change" and a.low == 9e12)
    assert _payload(nine)["article_url"] == y.url


def test_an_edit_moving_its_date_back_does_not_corroborate_itself(
    engine: Engine, watch: Watch
) -> None:
    store_articles(engine, watch, [venture("a", "$8 trillion", day(2024, 5, 2))], channel=None)
    moved = replace(
        venture("a", "$8 trillion", day(2024, 5, 1)), title="Altman's chip plan (updated)"
    )
    store_articles(engine, watch, [moved], channel=None, reread={moved.url})
    assert [a for a in _alerts(engine) if a.kind == "corroboration"] == []


def test_a_catch_up_taking_over_a_live_alert_keeps_the_live_report_sendable(
    engine: Engine, watch: Watch
) -> None:
    live = venture("live", "$8 trillion", day(2024, 5, 2))
    store_articles(engine, watch, [live], channel=None)
    old = venture("old", "$8 trillion", day(2024, 5, 1))
    store_articles(engine, watch, [old], channel=None, catch_up=True)
    sendable = [_payload(a)["article_url"] for a in _alerts(engine) if a.status == "pending"]
    assert live.url in sendable and old.url in sendable


def test_a_tried_alert_is_not_taken_over(engine: Engine, watch: Watch) -> None:
    """A message put back to pending after a timeout may be in the channel already."""
    later = venture("later", "$8 trillion", day(2024, 5, 2))
    store_articles(engine, watch, [later], channel=None)
    with store.session(engine) as s:
        s.exec(update(AlertRow).values(attempts=1))  # type: ignore[call-overload]
    earlier = venture("earlier", "$8 trillion", day(2024, 5, 1))
    store_articles(engine, watch, [earlier], channel=None)
    change = next(a for a in _alerts(engine) if a.kind == "change")
    assert _payload(change)["article_url"] == later.url
    reply = next(a for a in _alerts(engine) if a.kind == "corroboration")
    assert _payload(reply)["article_url"] == earlier.url
    assert _payload(reply)["published_earlier"] is True


def test_the_stated_value_on_its_own_day_in_seoul_is_no_change(
    engine: Engine, watch: Watch
) -> None:
    store_articles(engine, watch, [venture("jan", "$8 trillion", day(2024, 1, 20))], channel=None)
    seoul_morning = datetime(2024, 2, 8, 8, 0, tzinfo=timezone(timedelta(hours=9)))
    kst = venture("kst", "$7 trillion", seoul_morning.astimezone(UTC))
    store_articles(engine, watch, [kst], channel=None)
    changes = [a.low for a in _alerts(engine) if a.kind == "change"]
    assert changes == [8e12]


def test_was_is_the_latest_report_by_publication_not_by_row(engine: Engine, watch: Watch) -> None:
    store_articles(
        engine, watch, [venture("late", "$9 trillion", day(2024, 5, 1, 18))], channel=None
    )
    store_articles(
        engine, watch, [venture("early", "$8 trillion", day(2024, 5, 1, 6))], channel=None
    )
    store_articles(engine, watch, [venture("z", "$11 trillion", day(2024, 5, 2))], channel=None)
    eleven = next(a for a in _alerts(engine) if a.kind == "change" and a.low == 11e12)
    previous = _payload(eleven)["previous"]
    assert isinstance(previous, dict) and previous["text"] == "$9 trillion"
