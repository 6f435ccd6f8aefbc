"""Alerts built from hostile feed text: links that cannot break out, bounded sizes, no bidi."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.alerts import HEADER_LIMIT, METADATA_STRING_LIMIT, SECTION_LIMIT, TEXT_LIMIT, render
from tests.test_alerts import CHANGE

HOSTILE_LINK = "https://news.example/b?q=1|Reuters><!channel><https://evil.example"
BIDI = "\u202e\u2066\u200f"


def _rendered(kind: str = "change", **overrides: Any) -> Any:
    payload = {**CHANGE, **overrides}
    return render(kind=kind, key=CHANGE["key"], payload=payload, channel="#c", buttons=True)


def _mrkdwn(message: Any) -> list[str]:
    texts = []
    for block in message.blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return texts


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


def _urls(message: Any) -> list[str]:
    return [e["url"] for b in message.blocks for e in b.get("elements", []) if "url" in e]


def test_a_hostile_link_becomes_one_inert_link_and_no_mention() -> None:
    message = _rendered(article_url=HOSTILE_LINK)
    links = [link for text in _mrkdwn(message) for link in re.findall(r"<[^<>]*>", text)]
    assert not any(link.startswith(("<!channel", "<!here", "<!everyone")) for link in links)
    article = [link for link in links if not link.startswith("<!date")]
    assert article == [
        "<https://news.example/b?q=1%7CReuters%3E%3C!channel%3E%3Chttps://evil.example"
        "|Altman seeks about $7tn for chips>"
    ]
    assert _urls(message) == [article[0][1:].split("|")[0]]


def test_a_link_with_spaces_and_bidi_is_percent_encoded() -> None:
    message = _rendered(article_url=f"https://news.example/a b{BIDI}c")
    assert _urls(message) == ["https://news.example/a%20b%E2%80%AE%E2%81%A6%E2%80%8Fc"]


def test_links_other_than_the_web_are_not_linked() -> None:
    for url in ("javascript:alert(1)", "slack://open", "file:///etc/passwd", "https://[::1"):
        message = _rendered(article_url=url)
        assert _urls(message) == [], url
        assert not any(f"<{url}" in text for text in _mrkdwn(message)), url


def test_a_huge_title_quote_and_publisher_stay_within_slacks_limits() -> None:
    big = "Samsung " * 7_000  # 56 kB
    for kind in ("change", "corroboration", "decision"):
        extra = {"decision": {"action": "accept", "by": big}} if kind == "decision" else {}
        message = _rendered(
            kind,
            claim_title=big,
            article_title=big,
            publisher=big,
            quote=big,
            why=big,
            article_url="https://news.example/" + "a" * 2_000,
            **extra,
        )
        assert len(message.text) <= TEXT_LIMIT, kind
        assert message.text.endswith("…"), kind
        for block in message.blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= HEADER_LIMIT
        assert all(len(t) <= SECTION_LIMIT for t in _mrkdwn(message)), kind
        payload = message.metadata["event_payload"]
        strings = [v for v in payload.values() if isinstance(v, str)]
        assert strings and all(len(s) <= METADATA_STRING_LIMIT for s in strings), kind
        assert len(json.dumps(payload)) < 8 * METADATA_STRING_LIMIT, kind


def test_feed_health_text_is_bounded_too() -> None:
    payload = {
        "watch": "w",
        "feed_url": "https://feed.example/" + "x" * 50_000,
        "reason": "page " * 10_000,
        "failures": 5,
        "since": "2024-02-09T10:00:00+00:00",
    }
    message = render(kind="feed_degraded", key="k", payload=payload, channel="#c")
    assert len(message.text) <= TEXT_LIMIT
    assert all(
        len(v) <= METADATA_STRING_LIMIT
        for v in message.metadata["event_payload"].values()
        if isinstance(v, str)
    )


def test_bidi_and_control_characters_reach_no_part_of_a_message() -> None:
    sneaky = f"Reu{BIDI}ters\x1b[2J\x00"
    message = _rendered(
        publisher=sneaky, article_title=sneaky, claim_title=sneaky, quote=sneaky, why=sneaky
    )
    everything = "".join(_strings([message.text, message.blocks, message.metadata]))
    for char in (*BIDI, "\x1b", "\x00"):
        assert char not in everything, repr(char)
    assert "Reuters[2J" in message.text
