"""The whole product, as a person runs it: `monitor run --once` against loopback feeds and Slack.

A feed server publishes stories in phases; after each phase the daemon runs once as a
subprocess, and the fake Slack shows exactly which alerts were posted.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon_helpers import monitor_env, run_monitor
from tests.fakeslack import FakeSlack, Posted
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

WATCH = """\
watch: chips
title: AI chip funding
entities:
  altman: [Sam Altman, Altman, 샘 알트먼, 알트먼]
  samsung: [Samsung, Samsung Electronics, 삼성전자]
  nvidia: [Nvidia, 엔비디아]
feeds:
{feeds}
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips, semiconductor, 반도체]
    value: "5조~7조 달러"
    as_of: 2024-02-08
  - id: samsung-texas
    about: [samsung]
    topic: [Texas, 텍사스]
    value: "$44 billion"
    as_of: 2024-04-15
slack:
  channel: "#funding-alerts"
"""

FEEDS = ("/google-en", "/google-ko", "/wire", "/ko-wire")


def _item(slug: str, title: str, text: str, date: str = "Mon, 12 Feb 2024 09:00:00 GMT") -> Item:
    return Item(
        title=title,
        link=f"https://{slug}.example/story",
        guid=slug,
        description=text,
        pub_date=date,
    )


SAME_STORY = _item(
    "wsj",
    "Sam Altman seeks $5 trillion to $7 trillion for chips",
    "Sam Altman is in talks to raise $5 trillion to $7 trillion for a chip venture.",
)
KO_NEW = _item(
    "hankyung",
    '알트먼 "반도체에 8조 달러 필요"',
    "샘 알트먼은 반도체 공급망 구축에 8조 달러가 필요하다고 말했다.",
    "Tue, 20 Feb 2024 01:00:00 GMT",
)
EN_SAME_NEW = _item(
    "verge",
    "Altman ups the ante: $8 trillion for chips",
    "Sam Altman now says his chip plan needs $8 trillion.",
    "Tue, 20 Feb 2024 05:00:00 GMT",
)
NOISE = [
    _item(
        "cnbc",
        "Nvidia revenue hits $22.1 billion",
        "Nvidia reported quarterly revenue of $22.1 billion.",
    ),
    _item(
        "yna", "삼성전자, 2분기 영업이익 10조원", "삼성전자는 2분기 영업이익이 10조원이라고 밝혔다."
    ),
    _item("ft", "Altman's home sells for $27 million", "Sam Altman sold a house for $27 million."),
]
INSIDE = _item(
    "reuters",
    "Altman chip project could cost up to $7 trillion",
    "Sam Altman's chip project could need up to $7 trillion, people familiar said.",
    "Wed, 21 Feb 2024 05:00:00 GMT",
)
SAMSUNG_CUT = _item(
    "bloomberg",
    "Samsung trims Texas chip investment",
    "Samsung cut its Texas investment to $37 billion from $44 billion.",
    "Wed, 4 Dec 2024 05:00:00 GMT",
)


def _publish(server: FeedServer, feeds: dict[str, list[Item]]) -> None:
    for path in FEEDS:
        server.route(
            path, rss20(feeds.get(path, [])), headers={"Content-Type": "application/rss+xml"}
        )


def _changes(slack: FakeSlack) -> list[Posted]:
    return [
        p
        for p in slack.posts
        if p.metadata and p.metadata["event_type"] == "funding_figure_changed"
    ]


def _replies(slack: FakeSlack) -> list[Posted]:
    return [
        p
        for p in slack.posts
        if p.metadata and p.metadata["event_type"] == "funding_figure_corroborated"
    ]


def test_phases_alert_exactly_the_changes_once_with_corroborations_in_threads(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack
) -> None:
    rules = tmp_path / "chips.yaml"
    rules.write_text(
        WATCH.format(feeds="\n".join(f"  - url: {feed_server.url(p)}" for p in FEEDS)),
        encoding="utf-8",
    )
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_CHANNEL="#general",
        SLACK_API_URL=fake_slack.api_url,
    )

    def once() -> None:
        result = run_monitor(["run", "--once"], env)
        assert result.returncode == 0, result.stderr

    # 1. The same story in several feeds, inside the stored range: stored once, no alert.
    _publish(feed_server, {"/google-en": [SAME_STORY], "/wire": [SAME_STORY]})
    once()
    assert fake_slack.posts == []

    # 2. A new number, in Korean; the same number in English later: one alert, one reply.
    _publish(feed_server, {"/google-en": [SAME_STORY], "/ko-wire": [KO_NEW]})
    once()
    _publish(feed_server, {"/wire": [SAME_STORY, EN_SAME_NEW]})
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    once()
    (change,) = _changes(fake_slack)
    payload = change.metadata["event_payload"]  # type: ignore[index]
    assert (payload["claim"], payload["reported"]["low"], payload["reported"]["currency"]) == (
        "venture-target",
        8e12,
        "USD",
    )
    assert payload["reported"]["text"] == "8조 달러"
    assert payload["article_url"] == "https://hankyung.example/story"
    assert change.channel == "C0FUNDING1"  # the watch's channel, not SLACK_CHANNEL
    (reply,) = _replies(fake_slack)
    assert reply.thread_ts == change.ts
    assert reply.metadata["event_payload"]["article_url"] == "https://verge.example/story"  # type: ignore[index]

    # 3. Noise that names entities and money but fits no claim; 4. a figure inside the range.
    _publish(feed_server, {"/google-ko": NOISE, "/google-en": [INSIDE]})
    fake_slack.fail("chat.postMessage", status=500, times=1)
    once()
    assert len(_changes(fake_slack)) == 1 and len(_replies(fake_slack)) == 1

    # 5. A new figure for another claim, written as a change "to X from Y".
    _publish(feed_server, {"/wire": [SAMSUNG_CUT]})
    once()
    changes = _changes(fake_slack)
    assert [c.metadata["event_payload"]["claim"] for c in changes] == [
        "venture-target",
        "samsung-texas",
    ]  # type: ignore[index]
    samsung = changes[1].metadata["event_payload"]  # type: ignore[index]
    assert (samsung["reported"]["low"], samsung["previous"]["low"]) == (37e9, 44e9)

    # Nothing is ever posted twice, however often the cycle runs.
    once()
    keys = [p.metadata["event_payload"]["key"] for p in fake_slack.posts if p.metadata]  # type: ignore[index]
    assert len(keys) == len(set(keys)) == 3
    history = run_monitor(["history", "venture-target", "--json"], env)
    assert history.returncode == 0
    assert (
        '"outcome": "change"' in history.stdout and '"outcome": "corroboration"' in history.stdout
    )


def test_a_poll_beyond_max_alerts_per_poll_posts_one_summary_of_the_rest(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack
) -> None:
    """MONITOR_MAX_ALERTS_PER_POLL reaches the daemon; `monitor alerts` says what the rest are."""
    rules = tmp_path / "chips.yaml"
    watch = WATCH.format(feeds=f"  - url: {feed_server.url('/wire')}") + "catch_up: off\n"
    rules.write_text(watch, encoding="utf-8")
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_API_URL=fake_slack.api_url,
        MONITOR_MAX_ALERTS_PER_POLL="2",
    )
    _publish(
        feed_server,
        {
            "/wire": [
                _item(
                    f"t{n}",
                    f"Altman chip plan, take {n}",
                    f"Sam Altman needs ${n} trillion for chips.",
                )
                for n in (8, 10, 12, 14, 17, 20)
            ]
        },
    )
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 0, result.stderr
    assert len(_changes(fake_slack)) == 2
    [summary] = [p for p in fake_slack.posts if p not in _changes(fake_slack)]
    assert summary.text == (
        f"and 4 more changes on {feed_server.url('/wire')}: see `monitor alerts`"
    )
    rows = json.loads(run_monitor(["alerts", "--json"], env).stdout)
    assert [
        (r["kind"], r["reported"], r["status"]) for r in rows if r["kind"] == "poll_summary"
    ] == [("poll_summary", "4 more changes", "sent")]
    assert [r["status"] for r in rows if r["kind"] == "change"].count("summarized") == 4
    listed = run_monitor(["alerts"], env)
    assert listed.returncode == 0, listed.stderr
    assert "summarized: found by a poll beyond MONITOR_MAX_ALERTS_PER_POLL" in " ".join(
        listed.stdout.split()
    )
