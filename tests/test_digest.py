"""The daily digest: composed on plain data, queued once a day per watch on a fake clock,
across restarts and concurrent replicas, and delivered to the fake Slack."""

# ruff: noqa: F811  (pytest fixtures imported from tests.fakeslack are test arguments)
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from monitor import digest
from monitor.alerts import BLOCK_LIMIT, SECTION_LIMIT, render
from monitor.daemon import Daemon
from monitor.errors import RulesErrors
from monitor.notify.slack_bot import SlackBot
from monitor.rules import Rules, json_schema, load_watch
from monitor.settings import Settings
from monitor.store import AlertRow, DecisionRow, FeedState, make_engine, session
from tests.daemon_helpers import monitor_env, run_monitor
from tests.fakeslack import FakeSlack, fake_slack  # noqa: F401
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer, closed_port_url

SEOUL = ZoneInfo("Asia/Seoul")
WATCH = """\
watch: chips
title: AI chip funding
catch_up: off
entities:
  altman: [Sam Altman, Altman, 알트먼]
  samsung: [Samsung]
feeds:
{feeds}
claims:
  - id: venture-target
    title: Altman's chip venture, money needed
    about: [altman]
    topic: [chip, chips, 반도체]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
  - id: samsung-texas
    about: [samsung]
    topic: [Texas]
    value: "$44 billion"
    as_of: 2024-04-15
slack:
  channel: "#funding-alerts"
digest: {{at: "09:00", tz: Asia/Seoul}}
"""


def _watch_file(tmp_path: Path, feeds: list[str] | None = None, *, daily: bool = True) -> Path:
    urls = feeds or ["https://wire.example/feed.xml"]
    text = WATCH.format(feeds="\n".join(f"  - url: {u}" for u in urls))
    path = tmp_path / "chips.yaml"
    path.write_text(text if daily else text.split("digest:")[0], "utf-8")
    return path


def _rules(tmp_path: Path) -> Rules:
    watch, _ = load_watch(_watch_file(tmp_path))
    return Rules(watches=[watch], files={watch.watch: "chips.yaml"})


def _kst(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2024 in Seoul, as UTC."""
    return datetime(2024, 3, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


# --- rules -------------------------------------------------------------------------------


def test_rules_digest_key_is_checked_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "watch: x\ntitle: X\nentities:\n  a: [A]\ndigest:\n  at: 12:30\n  tz: Asia/Seol\n", "utf-8"
    )
    with pytest.raises(RulesErrors) as caught:
        load_watch(path)
    problems = [str(e) for e in caught.value.errors]
    assert problems == [
        f"{path}:6: digest.at: 750 is a number, not a time of day (YAML reads an unquoted "
        '12:30 as one); write it in quotes, like at: "12:30"',
        f'{path}:7: digest.tz: "Asia/Seol" is not a time zone; write an IANA name, like '
        "Asia/Seoul or UTC",
    ]
    path.write_text('watch: x\ntitle: X\nentities:\n  a: [A]\ndigest: {at: "9am"}\n', "utf-8")
    with pytest.raises(RulesErrors, match=r'bad.yaml:5: digest.at: "9am" is not a time of day'):
        load_watch(path)
    watch, _ = load_watch(_watch_file(tmp_path))
    assert watch.digest is not None and (watch.digest.at, watch.digest.tz) == (
        "09:00",
        "Asia/Seoul",
    )


def test_schema_has_the_digest_key() -> None:
    schema = json_schema()
    rule = schema["$defs"]["DigestRule"]
    assert schema["properties"]["digest"]["anyOf"][0] == {"$ref": "#/$defs/DigestRule"}
    assert rule["required"] == ["at"] and rule["properties"]["at"]["pattern"]
    assert rule["additionalProperties"] is False


# --- pure parts ----------------------------------------------------------------------------


def test_last_time_is_the_time_of_day_in_the_watch_zone(tmp_path: Path) -> None:
    rule = _rules(tmp_path).watches[0].digest
    assert rule is not None
    assert digest.last_time(rule, _kst(5, 9, 30)) == _kst(5, 9)
    assert digest.last_time(rule, _kst(5, 9)) == _kst(5, 9)
    assert digest.last_time(rule, _kst(5, 8, 59)) == _kst(4, 9)
    # 00:30 UTC on the 5th is 09:30 in Seoul: the 5th's digest, not the 4th's.
    assert digest.last_time(rule, datetime(2024, 3, 5, 0, 30, tzinfo=UTC)).date().day == 5


def test_compose_groups_each_claim_in_rules_order_and_lists_feed_health(tmp_path: Path) -> None:
    watch = _rules(tmp_path).watches[0]
    at = _kst(5, 12)
    payload = digest.compose(
        watch,
        since=_kst(5, 9),
        until=_kst(6, 9),
        key="digest/chips/2024-03-06",
        scheduled=True,
        changes=[
            digest.Change(
                "samsung-texas", "Reuters", "$44 billion", "$37 billion", "u1", "t1", "p", at
            ),
            digest.Change(
                "venture-target",
                "WSJ",
                "$5 trillion to $7 trillion",
                "$8 trillion",
                "u2",
                "t2",
                "p",
                at,
                "dismissed",
            ),
        ],
        corroborations=[
            digest.Corroboration("venture-target", "FT", at),
            digest.Corroboration("venture-target", "Bloomberg", at + timedelta(hours=1)),
            digest.Corroboration("venture-target", "FT", at + timedelta(hours=2)),
        ],
        decisions=[
            digest.Decision("venture-target", "dismiss", "U1 alice", "slack", at, "$8 trillion")
        ],
        feed_events=[
            digest.FeedEvent("feed_degraded", "https://a.example/rss", "HTTP 500", 5, at),
            digest.FeedEvent("feed_recovered", "https://b.example/rss", "", 7, at),
        ],
        failing=[digest.FailingFeed("https://a.example/rss", 6, "HTTP 500", True)],
    )
    assert [c["claim"] for c in payload["claims"]] == ["venture-target", "samsung-texas"]
    venture = payload["claims"][0]
    assert venture["claim_title"] == "Altman's chip venture, money needed"
    assert venture["changes"][0] | {"decision": "dismissed"} == venture["changes"][0]
    assert (venture["corroborations"], venture["outlets"]) == (3, ["FT", "Bloomberg"])
    assert venture["decisions"] == [
        {
            "action": "dismissed",
            "by": "U1 alice",
            "via": "slack",
            "at": at.isoformat(),
            "value": "$8 trillion",
        }
    ]
    assert payload["claims"][1]["changes"][0]["now"] == "$37 billion"
    assert payload["quiet"] == []
    assert [e["feed_url"] for e in payload["feeds"]["degraded"]] == ["https://a.example/rss"]
    assert [e["feed_url"] for e in payload["feeds"]["recovered"]] == ["https://b.example/rss"]
    assert payload["feeds"]["failing"][0]["failures"] == 6
    assert (payload["date"], payload["tz"], payload["scheduled"]) == (
        "2024-03-06",
        "Asia/Seoul",
        True,
    )
    quiet = digest.compose(watch, since=at, until=at, key="k", scheduled=False)
    assert quiet["claims"] == [] and quiet["quiet"] == [
        "Altman's chip venture, money needed",
        "samsung-texas",
    ]


def test_a_large_digest_stays_within_slack_limits_and_counts_the_rest(tmp_path: Path) -> None:
    claims = [
        {
            "claim": f"claim-{i}",
            "claim_title": f"Claim {i}",
            "changes": [
                {
                    "publisher": f"Outlet {j}",
                    "was": "$44 billion",
                    "now": f"${j} billion",
                    "article_url": f"https://news.example/{i}/{j}/" + "x" * 150,
                    "article_title": "t",
                    "published": "2024-03-05T01:00:00+00:00",
                }
                for j in range(30)
            ],
            "corroborations": 40,
            "outlets": [f"Outlet {j}" for j in range(40)],
            "decisions": [],
        }
        for i in range(60)
    ]
    payload = {
        "watch": "chips",
        "watch_title": "AI chip funding",
        "since": "2024-03-04T00:00:00+00:00",
        "until": "2024-03-05T00:00:00+00:00",
        "date": "2024-03-05",
        "scheduled": True,
        "claims": claims,
        "quiet": [],
        "feeds": {"degraded": [], "recovered": [], "failing": []},
    }
    message = render(kind="digest", key="digest/chips/2024-03-05", payload=payload, channel="#c")
    blocks_size = len(json.dumps(message.blocks, ensure_ascii=False))
    assert len(message.blocks) <= BLOCK_LIMIT and blocks_size < 13000
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert "more changes" in sections[1] and "$0 billion" in sections[1]
    counted = [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]
    assert any("more sections" in t and "monitor digest chips" in t for t in counted)
    meta = message.metadata or {}
    assert meta["event_type"] == "funding_figures_digest"
    assert meta["event_payload"]["key"] == "digest/chips/2024-03-05"
    assert meta["event_payload"]["changes"] == 60 * 30


# --- the database part, on a fake clock ----------------------------------------------------


def _add_alert(
    engine: Engine, kind: str, at: datetime, claim: str | None = None, **payload: Any
) -> int:
    row = AlertRow(
        key=f"{kind}:{at.isoformat()}:{claim}",
        kind=kind,
        watch="chips",
        claim=claim,
        payload=json.dumps(payload),
        status="sent",
        created_at=at,
    )
    with session(engine) as s:
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _change(engine: Engine, at: datetime, now: str, publisher: str) -> int:
    return _add_alert(
        engine,
        "change",
        at,
        "venture-target",
        previous={"text": "$5 trillion to $7 trillion"},
        reported={"text": now},
        publisher=publisher,
        article_url=f"https://{publisher.lower()}.example/story",
        published=at.isoformat(),
    )


def _digests(engine: Engine) -> dict[str, dict[str, Any]]:
    with session(engine) as s:
        rows = s.exec(
            select(AlertRow).where(AlertRow.kind == "digest").order_by(col(AlertRow.id))
        ).all()
    return {r.key: json.loads(r.payload) for r in rows}


def _hourly(engine: Engine, rules: Rules, start: datetime, hours: int) -> list[str]:
    queued: list[str] = []
    for hour in range(hours):
        queued += digest.queue_due(engine, rules, start + timedelta(hours=hour), "#default")
    return queued


def test_one_digest_a_day_with_each_event_in_its_own_day(engine: Engine, tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    day1 = _change(engine, _kst(4, 15), "$8 trillion", "WSJ")
    _add_alert(engine, "corroboration", _kst(4, 16), "venture-target", publisher="FT")
    _add_alert(
        engine,
        "feed_degraded",
        _kst(4, 17),
        feed_url="https://wire.example/feed.xml",
        reason="HTTP 500",
        failures=5,
    )
    with session(engine) as s:
        s.add(
            DecisionRow(
                alert_id=day1,
                watch="chips",
                claim="venture-target",
                action="accept",
                by="U1 alice",
                via="slack",
                at=_kst(5, 8, 59),
                text="$8 trillion",
            )
        )
    _change(engine, _kst(5, 9), "$9 trillion", "Hankyung")  # the 6th's: [09:00, ...)

    # A check every hour from the 4th at 08:00 to the 7th at 09:00.
    queued = _hourly(engine, rules, _kst(4, 8), 3 * 24 + 2)
    assert queued == [
        "digest/chips/2024-03-04",
        "digest/chips/2024-03-05",
        "digest/chips/2024-03-06",
        "digest/chips/2024-03-07",
    ]
    digests = _digests(engine)
    assert list(digests) == queued
    fourth, fifth, sixth, seventh = digests.values()
    assert fourth["claims"] == [] and fourth["feeds"]["degraded"] == []
    assert (fifth["since"], fifth["until"]) == (_kst(4, 9).isoformat(), _kst(5, 9).isoformat())
    assert (sixth["since"], sixth["until"]) == (_kst(5, 9).isoformat(), _kst(6, 9).isoformat())

    venture = fifth["claims"][0]
    assert [(c["publisher"], c["was"], c["now"]) for c in venture["changes"]] == [
        ("WSJ", "$5 trillion to $7 trillion", "$8 trillion")
    ]
    assert (venture["corroborations"], venture["outlets"]) == (1, ["FT"])
    assert [(d["by"], d["action"]) for d in venture["decisions"]] == [("U1 alice", "accepted")]
    assert [e["reason"] for e in fifth["feeds"]["degraded"]] == ["HTTP 500"]

    assert [c["now"] for c in sixth["claims"][0]["changes"]] == ["$9 trillion"]
    assert sixth["claims"][0]["corroborations"] == 0 and sixth["claims"][0]["decisions"] == []
    assert sixth["feeds"]["degraded"] == []
    assert seventh["claims"] == [] and len(seventh["quiet"]) == 2


def test_a_first_digest_waits_for_the_time_of_day(engine: Engine, tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    assert digest.queue_due(engine, rules, _kst(5, 8, 59)) == []  # not the 4th's, unseen
    assert digest.queue_due(engine, rules, _kst(5, 9)) == ["digest/chips/2024-03-05"]
    assert digest.queue_due(engine, rules, _kst(5, 9)) == []
    with session(engine) as s:
        row = s.exec(select(AlertRow).where(AlertRow.kind == "digest")).one()
    assert row.channel == "#funding-alerts" and row.status == "pending"


def _daemon(database_url: str, rules: Path) -> Daemon:
    return Daemon(
        Settings(
            database_url=database_url,
            rules=rules,
            slack_bot_token=None,
            slack_webhook_url=None,
            slack_channel=None,
            replica_id="digest-test",
        )
    )


def _stop(daemon: Daemon) -> None:
    daemon.fetcher.close()
    daemon.locks.close()
    daemon.engine.dispose()


def test_a_restart_neither_repeats_nor_loses_a_digest(database_url: str, tmp_path: Path) -> None:
    path = _watch_file(tmp_path)
    first = _daemon(database_url, path)
    assert first.queue_digests(_kst(5, 9, 5)) == ["digest/chips/2024-03-05"]
    _stop(first)

    # Restarted the same morning: the 5th's digest is not sent again.
    second = _daemon(database_url, path)
    assert second.queue_digests(_kst(5, 10)) == []
    _change(second.engine, _kst(5, 20), "$8 trillion", "WSJ")
    _stop(second)

    # Down over the 6th's 09:00: queued when it comes back, before the 7th's time.
    third = _daemon(database_url, path)
    assert third.queue_digests(_kst(7, 7)) == ["digest/chips/2024-03-06"]
    assert third.queue_digests(_kst(7, 9)) == ["digest/chips/2024-03-07"]
    # Down for days: one digest, keyed by the day it comes back, covers the whole gap.
    _change(third.engine, _kst(8, 20), "$9 trillion", "FT")
    assert third.queue_digests(_kst(11, 10)) == ["digest/chips/2024-03-11"]
    digests = _digests(third.engine)
    _stop(third)

    assert list(digests) == [f"digest/chips/2024-03-{day:02d}" for day in (5, 6, 7, 11)]
    periods = [(d["since"], d["until"]) for d in digests.values()]
    assert periods == [
        (_kst(4, 9).isoformat(), _kst(5, 9).isoformat()),
        (_kst(5, 9).isoformat(), _kst(6, 9).isoformat()),
        (_kst(6, 9).isoformat(), _kst(7, 9).isoformat()),
        (_kst(7, 9).isoformat(), _kst(11, 9).isoformat()),
    ]
    assert [c["now"] for c in digests["digest/chips/2024-03-06"]["claims"][0]["changes"]] == [
        "$8 trillion"
    ]
    assert [c["now"] for c in digests["digest/chips/2024-03-11"]["claims"][0]["changes"]] == [
        "$9 trillion"
    ]


def test_replicas_checking_at_once_queue_one_digest(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    rules = _rules(tmp_path)
    engines = [engine, *(make_engine(database_url) for _ in range(3))]  # `engine` migrated it
    digest.queue_due(engines[0], rules, _kst(4, 9))  # the one before: a period to compose
    start = threading.Barrier(len(engines))
    results: list[list[str]] = []

    def replica(engine: Engine) -> None:
        start.wait()
        results.append(digest.queue_due(engine, rules, _kst(5, 9, 1)))

    threads = [threading.Thread(target=replica, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [[], [], [], ["digest/chips/2024-03-05"]]
    assert list(_digests(engines[0])) == ["digest/chips/2024-03-04", "digest/chips/2024-03-05"]
    for e in engines[1:]:
        e.dispose()


# --- through the real pipeline, to the fake Slack ------------------------------------------


def test_a_polled_change_reaches_slack_in_the_digest_with_its_key(
    database_url: str, tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack
) -> None:
    feed_server.route(
        "/wire",
        rss20(
            [
                Item(
                    title="Altman ups the ante: $8 trillion for chips",
                    link="https://verge.example/story",
                    guid="verge",
                    description="Sam Altman now says his chip plan needs $8 trillion.",
                    pub_date="Tue, 20 Feb 2024 05:00:00 GMT",
                ),
                Item(
                    title='알트먼 "반도체에 8조 달러 필요"',
                    link="https://hankyung.example/story",
                    guid="hankyung",
                    description="샘 알트먼은 반도체 공급망 구축에 8조 달러가 필요하다고 말했다.",
                    pub_date="Tue, 20 Feb 2024 07:00:00 GMT",
                ),
            ]
        ),
    )
    dead = closed_port_url()
    path = _watch_file(tmp_path, [feed_server.url("/wire"), dead])
    settings = Settings(
        database_url=database_url,
        rules=path,
        slack_bot_token=fake_slack.token,
        slack_api_url=fake_slack.api_url,
        slack_channel="#funding-alerts",
        slack_webhook_url=None,
        degraded_after=1,
        replica_id="digest-e2e",
    )
    daemon = Daemon(settings)
    try:
        for url in (feed_server.url("/wire"), dead):
            daemon.poll(url, force=True)
        daemon.quiet.flush(daemon.engine)
        # The next 09:00 in Seoul after the polls: their alerts are in its period.
        due = digest.last_time(daemon.ctx.rules.watches[0].digest, datetime.now(UTC))  # type: ignore[arg-type]
        due += timedelta(days=1)
        assert daemon.queue_digests(due) == [digest.digest_key("chips", due.date())]
        daemon.deliver()
    finally:
        _stop(daemon)
    posts = [p for p in fake_slack.posts if p.metadata]
    digests = [p for p in posts if p.metadata["event_type"] == "funding_figures_digest"]  # type: ignore[index]
    assert len(digests) == 1, [p.text for p in posts]
    meta = digests[0].metadata["event_payload"]  # type: ignore[index]
    assert meta["key"] == digest.digest_key("chips", due.date())
    assert (meta["changes"], meta["corroborations"], meta["claims"]) == (1, 1, ["venture-target"])
    shown = "\n".join(b["text"]["text"] for b in digests[0].blocks if "text" in b)
    assert "$8 trillion" in shown and "verge.example" in shown
    assert f"Degraded: {dead}" in shown and "Failing now" in shown
    # Found again by its key, as the delivery's exactly-once lookup does.
    bot = SlackBot(fake_slack.token, channel="#funding-alerts", api_url=fake_slack.api_url)
    assert bot.find(meta["key"], "#funding-alerts", due - timedelta(days=2)) == digests[0].ts


def test_digest_command_prints_and_posts_without_moving_the_daily_periods(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # No `digest:`: `run --once` below would post a daily one too, depending on the real time.
    dead = closed_port_url()
    path = _watch_file(tmp_path, [dead], daily=False)
    env = monitor_env(
        tmp_path,
        path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_API_URL=fake_slack.api_url,
        SLACK_CHANNEL="#funding-alerts",
    )
    missing = run_monitor(["digest", "nope"], env)
    assert missing.returncode == 2 and 'no watch "nope"' in missing.stderr
    assert "watches: chips" in missing.stderr

    assert run_monitor(["init"], env).returncode == 0
    engine = make_engine(env["MONITOR_DATABASE_URL"])
    _change(engine, datetime.now(UTC) - timedelta(hours=1), "$8 trillion", "WSJ")
    with session(engine) as s:
        s.add(FeedState(url=dead, watch="chips", failures=3, last_error="connection refused"))

    printed = run_monitor(["digest", "chips"], env)
    assert printed.returncode == 0, printed.stderr
    assert "Digest: AI chip funding" in printed.stdout
    assert "$5 trillion to $7 trillion → $8 trillion" in printed.stdout
    assert f"Failing now: {dead}, 3 failed polls in a row: connection refused" in printed.stdout

    posted = run_monitor(["digest", "chips", "--post", "--json"], env)
    assert posted.returncode == 0, posted.stderr
    payload = json.loads(posted.stdout)
    assert payload["key"].startswith("digest/chips/") and "/posted-" in payload["key"]
    assert "next delivery" in posted.stderr
    assert list(_digests(engine)) == [payload["key"]]
    # A posted digest is no daily one: the next daily digest still looks back 24 hours.
    with session(engine) as s:
        assert digest.last_until(s, "chips") is None
    run_monitor(["run", "--once"], env)
    assert [p.metadata["event_payload"]["key"] for p in fake_slack.posts if p.metadata] == [
        payload["key"]
    ]
    engine.dispose()
