"""`monitor run` as a subprocess: polls at the interval, reloads on SIGHUP, stops on SIGTERM."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from sqlmodel import select

from monitor import store
from monitor.store import FeedState
from tests.daemon_helpers import http_get, monitor_env, start_monitor, wait_for
from tests.feeddocs import news_items, rss20
from tests.feedserver import FeedServer

WATCH = """\
watch: daemon-test
title: Daemon test
entities:
  altman: [Sam Altman]
keywords: [startup]  # the test feeds' stories
feeds:
{feeds}
claims:
  - id: target
    about: [altman]
    topic: [chip]
    value: "$7 trillion"
    as_of: 2024-02-08
"""


def _write(path: Path, urls: list[str], every: str = "1s") -> None:
    feeds = "\n".join(f"  - url: {u}\n    every: {every}" for u in urls)
    path.write_text(WATCH.format(feeds=feeds), encoding="utf-8")


def _arrivals(server: FeedServer, path: str) -> int:
    return len(server.requests(path))


def test_daemon_polls_at_its_interval_reloads_on_sighup_and_stops_cleanly(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    for path in ("/a", "/b", "/c"):
        feed_server.route(path, rss20(news_items(2, prefix=path.strip("/"))))
    rules = tmp_path / "watch.yaml"
    _write(rules, [feed_server.url("/a"), feed_server.url("/b")])
    env = monitor_env(tmp_path, rules)
    log = tmp_path / "daemon.log"
    proc = start_monitor(["run"], env, log)
    try:
        base = f"http://{env['MONITOR_HTTP_ADDR']}"
        wait_for(lambda: http_get(base + "/healthz")[0] == 200, 30, "/healthz to answer 200")
        wait_for(lambda: _arrivals(feed_server, "/a") >= 4, 30, "four polls of /a")
        # Polls come at the 1 s interval: not in a burst, and not minutes apart.
        start = _arrivals(feed_server, "/a")
        time.sleep(3.0)
        polled = _arrivals(feed_server, "/a") - start
        assert 2 <= polled <= 4, f"{polled} polls of a 1 s feed in 3 s"
        status, metrics = http_get(base + "/metrics")
        assert status == 200 and 'monitor_polls_total{result="new"}' in metrics

        # An invalid edit keeps the running rules and says why.
        rules.write_text("watch: [broken\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "rules not reloaded" in log.read_text(), 10, "the reload error in the log")
        before = _arrivals(feed_server, "/b")
        wait_for(lambda: _arrivals(feed_server, "/b") > before, 10, "/b still polled")

        # A valid edit: /b is dropped, /c is added.
        _write(rules, [feed_server.url("/a"), feed_server.url("/c")])
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: _arrivals(feed_server, "/c") >= 2, 30, "/c polled after the reload")
        dropped = _arrivals(feed_server, "/b")
        time.sleep(2.5)
        assert _arrivals(feed_server, "/b") == dropped, "/b is still polled after it was removed"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "rules reloaded" in text and "stopped" in text
    assert "Traceback" not in text
    # Quiet polls are written in batches; the last batch at the stop: none is lost.
    engine = store.make_engine(env["MONITOR_DATABASE_URL"])
    try:
        with store.session(engine) as s:
            polls = s.exec(select(FeedState.polls).where(FeedState.url == feed_server.url("/a")))
            assert polls.one() == _arrivals(feed_server, "/a")
    finally:
        engine.dispose()
