"""Replicas on one PostgreSQL database share the work: each poll and each alert happens once.

Three `monitor run` processes, a loopback feed server and a fake Slack; one replica is
killed with SIGKILL half-way. Every CLI command is also run against PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.daemon_helpers import (
    MONITOR,
    http_get,
    monitor_env,
    run_monitor,
    start_monitor,
    wait_for,
)
from tests.fakeslack import FakeSlack, fake_slack  # noqa: F401
from tests.feeddocs import Item, news_items, rss20
from tests.feedserver import FeedServer

pytestmark = pytest.mark.postgres
postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

WATCH = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman, 알트먼]
keywords: [startup]  # the test feeds' stories
feeds:
{feeds}
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips, 반도체]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
# Every feed's first poll brings the new value: alerted one by one, as a watch without
# catch-up does, so that a change and its corroboration race across the replicas.
catch_up: off
"""
FEEDS = 20
INTERVAL = 2.0
RUN_FOR = 20.0
REPLICAS = 3

EIGHT = Item(
    title="Sam Altman now wants $8 trillion for his chip venture",
    link="https://one.example/altman-8",
    description="Sam Altman said the chip project could need $8 trillion.",
)
EIGHT_AGAIN = Item(  # another outlet, the same value: a corroboration in the thread
    title="알트먼, 반도체에 8조 달러 필요하다고 밝혀",
    link="https://three.example/altman-8-ko",
    description="샘 알트먼은 반도체 공급망에 8조 달러가 필요하다고 말했다.",
)
TEN = Item(  # published after the kill: the surviving replicas must alert it
    title="Sam Altman now wants $10 trillion for his chip venture",
    link="https://one.example/altman-10",
    description="Sam Altman said the chip project could need $10 trillion.",
)


def _rules(path: Path, server: FeedServer) -> None:
    feeds = "\n".join(
        f"  - url: {server.url(f'/f{i}')}\n    every: {INTERVAL:g}s" for i in range(FEEDS)
    )
    path.write_text(WATCH.format(feeds=feeds), encoding="utf-8")


def _serve(server: FeedServer, news: list[Item]) -> None:
    """Every feed carries `news` (the same articles: stored once) and stories of its own."""
    for i in range(FEEDS):
        extra = [EIGHT_AGAIN] if i % 2 else []
        server.route(f"/f{i}", rss20([*news, *extra, *news_items(3, prefix=f"f{i}")]))


def _posted_keys(slack: FakeSlack) -> list[str]:
    return [str((p.metadata or {}).get("event_payload", {}).get("key")) for p in slack.posts]


def _alerts(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT key, kind, status FROM alert ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows]


def _polls(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"event": "poll"' in line)


@postgres_only
def test_three_replicas_poll_each_feed_once_per_interval_and_survive_a_kill(
    tmp_path: Path,
    database_url: str,
    feed_server: FeedServer,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    rules = tmp_path / "chips.yaml"
    _rules(rules, feed_server)
    _serve(feed_server, [EIGHT])
    slack = {
        "SLACK_BOT_TOKEN": fake_slack.token,
        "SLACK_CHANNEL": "funding-alerts",
        "SLACK_API_URL": fake_slack.api_url,
    }
    envs = [
        monitor_env(
            tmp_path,
            rules,
            MONITOR_DATABASE_URL=database_url,
            MONITOR_REPLICA_ID=f"replica-{n}",
            MONITOR_LOG_FORMAT="json",
            **slack,
        )
        for n in range(REPLICAS)
    ]
    logs = [tmp_path / f"replica-{n}.log" for n in range(REPLICAS)]
    # No `monitor init` first: concurrent starts take turns on an advisory lock.
    procs = [start_monitor(["run"], env, log) for env, log in zip(envs, logs, strict=True)]
    try:
        healths = [f"http://{env['MONITOR_HTTP_ADDR']}/healthz" for env in envs]
        wait_for(
            lambda: all(http_get(h)[0] == 200 for h in healths), 60, "every replica's /healthz"
        )
        started = time.monotonic()
        # The first alert and its corroboration, sent before the kill.
        wait_for(lambda: len(fake_slack.posts) >= 2, 15, "the first two alerts in Slack")
        time.sleep(max(0.0, started + RUN_FOR / 2 - time.monotonic()))
        assert _polls(logs[0]) > 0, "the replica to be killed never polled: the kill tests nothing"
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=10)
        killed = time.monotonic()
        _serve(feed_server, [TEN, EIGHT])
        time.sleep(max(0.0, started + RUN_FOR - time.monotonic()))
        wait_for(lambda: len(fake_slack.posts) >= 3, 15, "the alert published after the kill")
        time.sleep(INTERVAL)  # a duplicate post would come within a delivery pass or two
        for proc in procs[1:]:
            proc.send_signal(signal.SIGTERM)
        for proc in procs[1:]:
            assert proc.wait(timeout=30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    min_gaps, pickups = [], []
    for i in range(FEEDS):
        times = [r.at for r in feed_server.requests(f"/f{i}")]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # A run on two replicas shows up as two polls milliseconds apart; runs on time
        # are an interval apart, give or take the latency of picking the job up.
        assert min(gaps) >= INTERVAL / 2, f"/f{i} polled twice within {min(gaps):.3f} s"
        assert len(times) >= RUN_FOR / INTERVAL - 2, f"/f{i} polled only {len(times)} times"
        after = [t - killed for t in times if t > killed]
        assert after, f"/f{i} never polled after the kill"
        # Picked up within one interval, or one lease (6 s) if the dead replica held its
        # schedule at the moment it died.
        assert after[0] <= INTERVAL + 6.5, f"/f{i} first polled {after[0]:.1f} s after the kill"
        min_gaps.append(min(gaps))
        pickups.append(after[0])
    # The measurements docs/scaling.md quotes (shown with pytest -s).
    print(
        f"\nreplicas: polls {[_polls(log) for log in logs]}; shortest gap between polls of a "
        f"feed {min(min_gaps):.2f} s; latest first poll after the kill {max(pickups):.2f} s"
    )

    alerts = _alerts(database_url)
    assert [kind for _, kind, _ in alerts] == ["change", "corroboration", "change"]
    assert all(status == "sent" for _, _, status in alerts), alerts
    posted = _posted_keys(fake_slack)
    assert sorted(posted) == sorted(key for key, _, _ in alerts), "an alert posted twice or never"
    for log in logs:
        assert "Traceback" not in log.read_text()
    assert all(_polls(log) > 0 for log in logs), "a replica did no work"


WATCH_TWO_FEEDS = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman]
keywords: [startup]  # the test feeds' stories
feeds:
  - url: {a}
    every: 1m
  - url: {b}
    every: 5m
claims:
  - id: venture-target
    about: [altman]
    topic: [chip]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
catch_up: off  # the first poll's new value is one alert, which `monitor alerts` shows
"""


def _schedules(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM apscheduler.schedules WHERE id LIKE 'feed-%'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


@postgres_only
def test_every_command_works_on_postgresql(
    tmp_path: Path, database_url: str, feed_server: FeedServer
) -> None:
    feed_server.route("/a", rss20([EIGHT]))
    feed_server.route("/b", rss20(news_items(2)))
    rules = tmp_path / "chips.yaml"
    rules.write_text(
        WATCH_TWO_FEEDS.format(a=feed_server.url("/a"), b=feed_server.url("/b")), encoding="utf-8"
    )
    env = monitor_env(tmp_path, rules, MONITOR_DATABASE_URL=database_url)

    for _ in range(2):  # a second init changes nothing
        done = run_monitor(["init"], env)
        assert done.returncode == 0, done.stderr
        assert "database ready: 1 claims from 1 watches, 2 feeds scheduled" in done.stdout
        assert _schedules(database_url) == 2

    done = run_monitor(["run", "--once"], env)
    assert done.returncode == 0, done.stderr
    assert "polled 2 feeds: 3 new articles, 0 failed" in done.stderr

    done = run_monitor(["claims", "--json"], env)
    assert done.returncode == 0, done.stderr
    [claim] = json.loads(done.stdout)
    assert claim["claim"] == "venture-target" and claim["known"][-1] == "$8 trillion"

    done = run_monitor(["status", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert sorted(r["result"] for r in json.loads(done.stdout)) == ["new", "new"]

    done = run_monitor(["alerts", "--json"], env)
    assert done.returncode == 0, done.stderr
    [alert] = json.loads(done.stdout)
    assert (alert["kind"], alert["reported"], alert["status"]) == ("change", "$8 trillion", "sent")


@postgres_only
def test_concurrent_inits_take_turns(tmp_path: Path, database_url: str) -> None:
    """Concurrent creation of APScheduler's tables raised UniqueViolation without the lock."""
    rules = tmp_path / "chips.yaml"
    rules.write_text(
        WATCH_TWO_FEEDS.format(a="http://127.0.0.1:9/a", b="http://127.0.0.1:9/b"),
        encoding="utf-8",
    )
    env = monitor_env(tmp_path, rules, MONITOR_DATABASE_URL=database_url)
    procs = [
        subprocess.Popen(
            [*MONITOR, "init"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert _schedules(database_url) == 2
