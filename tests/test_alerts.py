"""Stage Alert: what a person reads in Slack, and the limits and metadata Slack enforces."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import (
    BLOCK_LIMIT,
    FIELD_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    format_money,
    render,
)

CHANGE: dict[str, Any] = {
    "watch": "ai-chip-funding",
    "watch_title": "AI chip supply-chain fundraising",
    "claim": "chip-venture-target",
    "claim_title": "Altman's AI-chip venture, money needed",
    "previous": {"low": 5e12, "high": 7e12, "currency": "USD", "text": "5조~7조 달러"},
    "reported": {
        "low": 7e12,
        "high": 7e12,
        "currency": "USD",
        "text": "$7tn",
        "qualifier": "approx",
    },
    "usd": {"low": 7e12, "high": 7e12},
    "change_pct": 16.7,
    "article_url": "https://news.example/altman-7tn?src=rss&x=1",
    "article_title": "Altman seeks about $7tn for chips",
    "publisher": "Reuters",
    "published": "2024-02-09T14:00:00+00:00",
    "quote": "Sam Altman is seeking about $7 trillion to reshape the chip industry.",
    "key": "change:ai-chip-funding:chip-venture-target:42",
}
FEED = {
    "watch": "ai-chip-funding",
    "feed_url": "https://www.yna.co.kr/rss/economy.xml",
    "reason": "HTTP 503 Service Unavailable",
    "failures": 5,
    "since": "2024-02-09T10:00:00+00:00",
}
FIGURE_PAYLOAD_KEYS = {
    "watch",
    "claim",
    "previous",
    "reported",
    "usd",
    "article_url",
    "publisher",
    "published",
    "quote",
    "key",
}


def _change(**overrides: Any) -> dict[str, Any]:
    payload = copy.deepcopy(CHANGE)
    payload.update(overrides)
    return payload


def _texts(blocks: list[dict[str, Any]]) -> str:
    """Everything a person can read in the blocks, joined."""
    parts: list[str] = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        if block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
    return "\n".join(parts)


def _assert_within_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= BLOCK_LIMIT
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= HEADER_LIMIT
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= FIELD_LIMIT for f in block.get("fields", []))


def _no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_no_nulls(v) for v in value.values())
    return value is not None


def test_change_has_header_fields_quote_and_article_button():
    message = render(kind="change", key=CHANGE["key"], payload=CHANGE, channel="funding-alerts")
    types = [b["type"] for b in message.blocks]
    assert types == ["header", "section", "section", "section", "context", "actions"]
    assert message.blocks[0]["text"]["text"] == (
        "Funding figure changed: Altman's AI-chip venture, money needed"
    )
    fields = [f["text"] for f in message.blocks[2]["fields"]]
    assert fields[0] == "*Was → Now*\n5조~7조 달러 ($5T–$7T) → about $7 trillion"
    assert fields[1] == "*Change*\n+17%"
    assert fields[2] == "*Source*\nReuters"
    assert fields[3].startswith("*Published*\n<!date^1707487200^")
    assert fields[3].endswith("|2024-02-09 14:00 UTC>")
    assert message.blocks[3]["text"]["text"] == f"> {CHANGE['quote']}"
    button = message.blocks[5]["elements"][0]
    assert button["url"] == CHANGE["article_url"]
    assert button["text"]["text"] == "Read the article"
    assert message.channel == "funding-alerts"
    assert message.thread_ts is None
    _assert_within_slack_limits(message.blocks)


def test_change_says_why_the_figure_is_this_claims():
    why = "held by Altman (its clause); target (\"seeking\"); topic 'chip' in its clause"
    message = render(kind="change", key=CHANGE["key"], payload=_change(why=why), channel="c")
    assert "Why this claim: held by Altman (its clause)" in _texts(message.blocks)
    assert message.metadata["event_payload"]["why"] == why
    _assert_within_slack_limits(message.blocks)
    plain = render(kind="change", key=CHANGE["key"], payload=CHANGE, channel="c")
    assert "Why this claim" not in _texts(plain.blocks)
    assert "why" not in plain.metadata["event_payload"]


def test_change_summary_says_what_happened_and_what_it_means():
    summary = render(kind="change", key="k", payload=CHANGE, channel=None).blocks[1]["text"]["text"]
    assert summary.startswith(
        "*Reuters* reports *about $7 trillion* for Altman's AI-chip venture, money needed: "
        "17% more than the *5조~7조 달러 ($5T–$7T)* on record."
    )
    assert "further reports of it will be threaded" in summary


def test_a_lower_figure_reads_as_less():
    payload = _change(
        reported={"low": 4e12, "high": 4e12, "currency": "USD", "text": "$4 trillion"},
        change_pct=-33.3,
    )
    message = render(kind="change", key="k", payload=payload, channel=None)
    assert "33% less than" in message.blocks[1]["text"]["text"]
    assert "*Change*\n−33%" in _texts(message.blocks)


def test_fallback_text_stands_alone_for_notifications():
    message = render(kind="change", key="k", payload=CHANGE, channel=None)
    assert message.text == (
        "Funding figure changed: Altman's AI-chip venture, money needed: Reuters reports "
        "about $7 trillion, was 5조~7조 달러 ($5T–$7T) (+17%), 2024-02-09 14:00 UTC."
    )


def test_change_metadata_follows_the_contract_exactly():
    metadata = render(kind="change", key=CHANGE["key"], payload=CHANGE, channel=None).metadata
    assert metadata is not None
    assert metadata["event_type"] == "funding_figure_changed"
    payload = metadata["event_payload"]
    assert set(payload) == FIGURE_PAYLOAD_KEYS
    assert payload["previous"] == {"low": 5e12, "high": 7e12, "currency": "USD"}
    assert payload["reported"] == {"low": 7e12, "high": 7e12, "currency": "USD", "text": "$7tn"}
    assert payload["usd"] == {"low": 7e12, "high": 7e12}
    assert payload["key"] == CHANGE["key"]
    assert (payload["watch"], payload["claim"]) == ("ai-chip-funding", "chip-venture-target")
    assert (payload["publisher"], payload["published"]) == ("Reuters", CHANGE["published"])
    assert payload["article_url"] == CHANGE["article_url"]
    assert payload["quote"] == CHANGE["quote"]


def test_without_an_exchange_rate_the_change_is_unknown_and_metadata_has_no_nulls():
    payload = _change(
        reported={"low": 622e12, "high": 622e12, "currency": "KRW", "text": "622조원"},
        usd=None,
        change_pct=None,
    )
    message = render(kind="change", key="k", payload=payload, channel=None)
    assert message.metadata is not None
    assert message.metadata["event_payload"]["usd"] == {}
    assert _no_nulls(message.metadata)
    assert "*Change*\nunknown (no rate)" in _texts(message.blocks)
    assert "cannot be compared" in message.blocks[1]["text"]["text"]
    assert "change unknown" in message.text


def test_a_figure_in_won_shows_as_written_and_in_dollars():
    payload = _change(
        reported={"low": 622e12, "high": 622e12, "currency": "KRW", "text": "622조원"},
        usd={"low": 467e9, "high": 467e9},
    )
    message = render(kind="change", key="k", payload=payload, channel=None)
    assert "→ 622조원 (₩622T), ≈ $467 billion" in _texts(message.blocks)


def test_header_is_cut_to_150_characters_with_an_ellipsis():
    message = render(kind="change", key="k", payload=_change(claim_title="x" * 400), channel=None)
    header = message.blocks[0]["text"]["text"]
    assert len(header) == HEADER_LIMIT
    assert header.endswith("…")


def test_long_quote_is_cut_to_3000_characters_never_inside_an_entity():
    message = render(kind="change", key="k", payload=_change(quote="R&D " * 2000), channel=None)
    quote = message.blocks[3]["text"]["text"]
    assert len(quote) <= SECTION_LIMIT
    assert quote.endswith("…")
    assert re.search(r"&[a-z]*…$", quote) is None
    assert message.metadata is not None
    assert len(message.metadata["event_payload"]["quote"]) <= SECTION_LIMIT


def test_text_from_articles_is_escaped_for_slack():
    payload = _change(publisher="<!channel> & Co", quote="a <b> & c")
    message = render(kind="change", key="k", payload=payload, channel=None)
    text = _texts(message.blocks)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; Co" in text
    assert "> a &lt;b&gt; &amp; c" in text
    assert "<!channel>" not in message.text


def test_corroboration_replies_in_the_parent_thread():
    payload = _change(publisher="Bloomberg", quote="Altman wants $7 trillion.")
    message = render(
        kind="corroboration", key="corr-1", payload=payload, channel="C1", parent_ts="1707.000100"
    )
    assert message.thread_ts == "1707.000100"
    assert message.text == (
        "Also reported by Bloomberg (about $7 trillion): “Altman wants $7 trillion.”"
    )
    assert message.blocks[0]["text"]["text"].startswith(
        "*Also reported by Bloomberg (about $7 trillion)*\n> Altman wants"
    )
    assert message.metadata is not None
    assert message.metadata["event_type"] == "funding_figure_corroborated"
    assert set(message.metadata["event_payload"]) == FIGURE_PAYLOAD_KEYS
    assert message.metadata["event_payload"]["key"] == "corr-1"
    _assert_within_slack_limits(message.blocks)


def test_corroboration_outside_a_thread_names_the_claim():
    message = render(kind="corroboration", key="c", payload=CHANGE, channel=None, parent_ts=None)
    assert message.thread_ts is None
    assert message.text.startswith("Altman's AI-chip venture, money needed: Also reported by")


def test_feed_degraded_says_why_how_often_and_what_to_do():
    message = render(kind="feed_degraded", key="feed:1", payload=FEED, channel="C1")
    assert message.blocks[0]["text"]["text"] == "Feed degraded: ai-chip-funding"
    body = message.blocks[1]["text"]["text"]
    assert "https://www.yna.co.kr/rss/economy.xml has had 5 failed polls in a row" in body
    assert "since 2024-02-09 10:00 UTC" in body
    assert "Last error: HTTP 503 Service Unavailable." in body
    assert "not being read" in body
    assert message.text.startswith("Feed degraded: ai-chip-funding.")
    assert message.metadata == {
        "event_type": "feed_degraded",
        "event_payload": {**FEED, "key": "feed:1"},
    }


def test_feed_recovered_says_it_works_again():
    payload = {**FEED, "reason": None, "failures": 1}
    message = render(kind="feed_recovered", key="feed:2", payload=payload, channel=None)
    assert message.blocks[0]["text"]["text"] == "Feed recovered: ai-chip-funding"
    assert "answers again after 1 failed poll (failing since" in message.blocks[1]["text"]["text"]
    assert message.metadata is not None
    assert message.metadata["event_type"] == "feed_recovered"
    assert message.metadata["event_payload"]["key"] == "feed:2"
    assert _no_nulls(message.metadata)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown alert kind 'unheard_of'"):
        render(kind="unheard_of", key="k", payload={}, channel=None)


@pytest.mark.parametrize(
    ("low", "high", "currency", "long", "short"),
    [
        (7e12, 7e12, "USD", "$7 trillion", "$7T"),
        (5e12, 7e12, "USD", "$5–7 trillion", "$5T–$7T"),
        (622e12, 622e12, "KRW", "₩622 trillion", "₩622T"),
        (9000e12, 9000e12, "KRW", "₩9,000 trillion", "₩9,000T"),
        (40e9, 40e9, "USD", "$40 billion", "$40B"),
        (46.7e9, 46.7e9, "EUR", "€46.7 billion", "€46.7B"),
        (1.25e9, 1.25e9, "GBP", "£1.25 billion", "£1.25B"),
        (500e6, 2e12, "USD", "$500 million–$2 trillion", "$500M–$2T"),
        (750_000, 750_000, "CHF", "CHF 750,000", "CHF 750,000"),
    ],
)
def test_format_money(low: float, high: float, currency: str, long: str, short: str):
    assert format_money(low, high, currency) == long
    assert format_money(low, high, currency, short=True) == short


_ANY_TEXT = st.text(min_size=1, max_size=6000)


@settings(max_examples=60, deadline=None)
@given(title=_ANY_TEXT, quote=_ANY_TEXT, publisher=_ANY_TEXT, url=st.text(max_size=4000))
def test_any_text_stays_within_slack_limits(title: str, quote: str, publisher: str, url: str):
    payload = _change(claim_title=title, quote=quote, publisher=publisher, article_url=url)
    for kind in ("change", "corroboration"):
        message = render(kind=kind, key="k", payload=payload, channel=None, parent_ts="1.2")
        _assert_within_slack_limits(message.blocks)
        assert message.text
        assert all(
            len(e["url"]) <= 3000
            for b in message.blocks
            for e in b.get("elements", [])
            if "url" in e
        )


@pytest.mark.parametrize(
    ("pct", "shown"),
    [(16.7, "+17%"), (4.3, "+4.3%"), (-99.95, "−99.95%"), (-100.0, "−100%"), (150.0, "+150%")],
)
def test_change_in_percent_reads_right(pct: float, shown: str) -> None:
    message = render(
        kind="change", key="k", payload={**CHANGE, "change_pct": pct}, channel="#c", parent_ts=None
    )
    assert shown in message.text


def _catch_up(n: int) -> dict[str, Any]:
    change = {
        "reported": {"low": 8e12, "high": 8e12, "currency": "USD", "text": "$8 trillion"},
        "article_url": "https://news.example/a?x=1&y=2",
        "article_title": "Altman <b>wants</b> & more",
        "publisher": "R&D <Wire>",
        "published": "2024-07-01T09:00:00+00:00",
    }
    return {
        "watch": "ai-chip-funding",
        "watch_title": "AI chip supply-chain fundraising",
        "claim": "chip-venture-target",
        "claim_title": "Altman's AI-chip venture, money needed",
        "changes": [
            {**change, "reported": {**change["reported"], "low": v, "high": v}}
            for v in ((8 + i) * 1e12 for i in range(n))
        ],
        "key": "ai-chip-funding/chip-venture-target/USD:8e12|catch-up",
    }


def test_a_catch_up_lists_some_changes_counts_the_rest_and_keeps_many_in_metadata() -> None:
    payload = _catch_up(60)
    message = render(kind="catch_up", key=payload["key"], payload=payload, channel="#c")
    assert message.blocks[0]["text"]["text"] == "Catch-up: Altman's AI-chip venture, money needed"
    assert len(message.blocks) <= BLOCK_LIMIT
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert all(len(t) <= SECTION_LIMIT for t in texts)
    assert "*60 reports*" in texts[0]
    assert len([t for t in texts if "$" in t and "R&amp;D &lt;Wire&gt;" in t]) == 10
    assert "<b>" not in str(message.blocks) and "R&D" not in str(message.blocks)
    assert "and 50 more" in str(message.blocks) and "and 50 more" in message.text
    assert message.metadata is not None
    assert message.metadata["event_type"] == "funding_figures_catch_up"
    meta = message.metadata["event_payload"]
    assert (meta["watch"], meta["claim"], meta["key"]) == (
        "ai-chip-funding",
        "chip-venture-target",
        payload["key"],
    )
    assert (len(meta["changes"]), meta["changes_total"]) == (50, 60)
    assert meta["changes"][0] == {
        "reported": {"low": 8e12, "high": 8e12, "currency": "USD", "text": "$8 trillion"},
        "article_url": "https://news.example/a?x=1&y=2",
        "publisher": "R&D <Wire>",
        "published": "2024-07-01T09:00:00+00:00",
    }


def test_a_short_catch_up_lists_every_change_and_counts_none() -> None:
    payload = _catch_up(1)
    message = render(kind="catch_up", key=payload["key"], payload=payload, channel="#c")
    assert "*1 report*" in message.blocks[1]["text"]["text"]
    assert "more:" not in str(message.blocks)


def _summary(changes: int, corroborations: int, claims: int) -> dict[str, Any]:
    return {
        "watch": "ai-chip-funding",
        "watch_title": "AI chip <funding>",
        "feed_url": "https://wire.example/rss?a=1&b=2",
        "sent_alone": 10,
        "more_changes": changes,
        "more_corroborations": corroborations,
        "claims": [
            {"claim": f"claim-{n}", "claim_title": f"Claim {n}", "changes": 1}
            for n in range(claims)
        ],
        "key": "k|summary",
    }


def test_a_poll_summary_counts_the_rest_names_the_feed_and_carries_its_key() -> None:
    payload = _summary(289, 1, 12)
    message = render(kind="poll_summary", key="k|summary", payload=payload, channel="#c")
    assert message.text == (
        "and 289 more changes and 1 more report of known values on "
        "https://wire.example/rss?a=1&amp;b=2: see `monitor alerts`"
    )
    body = str(message.blocks)
    assert "than the 10 it posts one by one" in body and "(status `summarized`)" in body
    assert "Claim 9: 1 change" in body and "Claim 10" not in body
    assert "and 2 more claims" in body
    assert "Watch: AI chip &lt;funding&gt;" in body  # mrkdwn escaped; the header is plain
    assert message.metadata == {
        "event_type": "funding_alerts_summarized",
        "event_payload": {
            "watch": "ai-chip-funding",
            "feed_url": "https://wire.example/rss?a=1&b=2",
            "changes": 289,
            "corroborations": 1,
            "claims": {f"claim-{n}": 1 for n in range(12)},
            "key": "k|summary",
        },
    }


def test_a_poll_summary_of_reports_only_counts_no_changes() -> None:
    payload = _summary(0, 3, 0)
    message = render(kind="poll_summary", key="k|summary", payload=payload, channel="#c")
    assert message.text.startswith("and 3 more reports of known values on ")
    assert "change" not in message.text
