"""Polling cost: our poll path against a naive feedparser loop, and replicas on PostgreSQL.

    .venv/bin/python bench/poll.py                 # 1,000 feeds x 50 items, SQLite, no ETag
    .venv/bin/python bench/poll.py --etag          # the same, feeds answering 304 like most
    .venv/bin/python bench/poll.py --replicas 3    # 3,000 feeds, `monitor run` x 3, PostgreSQL

The feeds are Google News search results in the shape of the recorded ones, served from
loopback by a separate process, so its CPU is not counted. The default mode runs
`monitor.poll.poll_feed` (what a scheduled job runs) on 16 threads with a SQLite database
in a temporary directory: a cold cycle (every article new), a second one (each feed's last
result turns from new to unchanged), a cycle with nothing changed, and a cycle with 10% of
the feeds changed (5 new items each). Each cycle ends with the write of the quiet polls,
which the daemon does every few seconds. The documents carry no ETag or Last-Modified,
the costlier case: every poll downloads the body. The naive loop, `feedparser.parse(url)`
one feed after another, is timed on a sample and extrapolated. Targets (issue "Polling"):
a cycle <= 15 s, <= 2 ms CPU per unchanged feed, >= 10x faster than the naive loop, peak
RSS <= 150 MB.

`--replicas N` starts N `monitor run` processes on a fresh PostgreSQL database, with every
feed due every 10 s (more than one replica can poll, so throughput is the capacity), and
counts the polls each replica logs: first all N together, then one alone, in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NEW_PER_CHANGE = 5  # items a changed feed gains (and loses at the bottom)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

WATCH = """\
watch: bench
title: Bench
entities:
  acme: [Acme Robotics, Acme]
keywords: [startup]  # every item read, as before section feeds were filtered
feeds:
{feeds}
claims:
  - id: acme-plant
    about: [acme]
    topic: [plant, factory]
    value: "$40 million"
    as_of: 2024-02-08
"""


PUBLISHERS = ["Reuters", "The Korea Herald", "Bloomberg", "연합뉴스", "TechCrunch", "CNBC"]


def _document(feed: int, version: int, items: int) -> bytes:
    """A Google News search feed for `feed` at `version`: each version adds NEW_PER_CHANGE
    items at the top.

    Items have the shape of the recorded ones in ../shared/fixtures/google-news/ (opaque
    article link and guid, "Headline - Publisher" title, the escaped-HTML description,
    `<source>`), so feedparser spends on them about what it spends on real feeds.
    """
    top = version * NEW_PER_CHANGE + items
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<generator>NFE/5.0</generator><title>Wire {feed} - Google News</title>"
        f"<link>https://news.google.com/search?q=wire+{feed}&amp;hl=en-US&amp;gl=US&amp;"
        "ceid=US:en</link><language>en-US</language><description>Google News</description>"
    ]
    for k in range(top - 1, top - 1 - items, -1):
        if k % 10 == 0:
            cost = 40 + k % 7 * 5
            headline = f"Acme Robotics says its new plant in town {feed} will cost ${cost} million"
        else:
            headline = f"Wire {feed} story {k}: startup {k} raises ${k % 90 + 1} million"
        publisher = PUBLISHERS[k % len(PUBLISHERS)]
        token = hashlib.sha256(f"{feed}/{k}".encode()).hexdigest()
        article_id = f"CBMi{token}{token[:60]}"
        link = f"https://news.google.com/rss/articles/{article_id}?oc=5"
        story = (
            f'<a href="{link}" target="_blank">{escape(headline)}</a>'
            f'&nbsp;&nbsp;<font color="#6f6f6f">{escape(publisher)}</font>'
        )
        parts.append(
            f"<item><title>{escape(f'{headline} - {publisher}')}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{article_id}</guid>'
            f"<pubDate>Tue, 14 Jul 2026 {k % 24:02d}:{k % 60:02d}:00 GMT</pubDate>"
            f"<description>{escape(story)}</description>"
            f'<source url="https://{k % len(PUBLISHERS)}.publisher.example">'
            f"{escape(publisher)}</source></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _serve(versions: SynchronizedArray[Any], items: int, etag: bool, ready: Any) -> None:
    """The feed server process: /feed/<n> answers feed n at its current version.

    With `etag`, like most publishers: an ETag per version, and 304 when it matches.
    """
    cache: dict[tuple[int, int], bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As production servers do on kept-alive connections. Without it the body's write
        # waits for the ACK of the headers' write, which the client delays: 40 ms per
        # response that only a keep-alive client (ours, not the naive loop) pays.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            feed = int(self.path.rsplit("/", 1)[1])
            key = (feed, versions[feed])
            tag = f'"{feed}-{key[1]}"'
            if etag and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            body = cache.get(key) or cache.setdefault(key, _document(*key, items))
            self.send_response(200)
            if etag:
                self.send_header("ETag", tag)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    ready.put(httpd.server_address[1])
    httpd.serve_forever()


@contextmanager
def feed_server(
    feeds: int, items: int, etag: bool = False
) -> Iterator[tuple[str, SynchronizedArray[Any]]]:
    """The base URL of a feed server in another process, and the feed versions it serves."""
    versions: SynchronizedArray[Any] = multiprocessing.Array("i", feeds, lock=False)
    ready: Any = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_serve, args=(versions, items, etag, ready), daemon=True)
    proc.start()
    try:
        yield f"http://127.0.0.1:{ready.get(timeout=30)}", versions
    finally:
        proc.terminate()
        proc.join()


def _write_rules(path: Path, base: str, feeds: int, every: str) -> None:
    lines = "\n".join(f"  - url: {base}/feed/{i}\n    every: {every}" for i in range(feeds))
    path.write_text(WATCH.format(feeds=lines), encoding="utf-8")


def _cpu() -> float:
    return time.process_time()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_single(feeds: int, items: int, changed: float, naive_sample: int, etag: bool) -> None:
    """One process, SQLite: cold, unchanged and changed cycles, then the naive loop."""
    import feedparser

    from monitor import store
    from monitor.fetch import Fetcher
    from monitor.observe import sync_claims
    from monitor.poll import Context, poll_feed
    from monitor.rules import load_rules

    with feed_server(feeds, items, etag) as (base, versions), tempfile.TemporaryDirectory() as tmp:
        rules_path = Path(tmp) / "bench.yaml"
        _write_rules(rules_path, base, feeds, "15m")
        rules = load_rules(rules_path)
        engine = store.open_store(f"sqlite:///{tmp}/bench.db")
        sync_claims(engine, rules)
        # One host serves every feed here; per_host would otherwise cap us at 2 fetches.
        fetcher = Fetcher(
            connect_timeout=5, timeout=10, max_bytes=10_000_000, per_host=16, allow="127.0.0.1"
        )
        ctx = Context(engine=engine, fetcher=fetcher, rules=rules)
        urls = list(ctx.feeds())
        validators = "ETag and 304s" if etag else "no ETag"
        print(f"{feeds} feeds x {items} items on {base}, SQLite, 16 threads, {validators}")

        def cycle(name: str) -> tuple[float, float]:
            started, cpu = time.perf_counter(), _cpu()
            with ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(lambda u: poll_feed(ctx, u, force=True), urls))
            ctx.quiet.flush(engine)  # as the daemon does every few seconds
            wall, used = time.perf_counter() - started, _cpu() - cpu
            kinds: dict[str, int] = {}
            for r in results:
                kinds[r.result] = kinds.get(r.result, 0) + 1
            print(f"  {name:<26} {wall:6.2f} s wall  {used:6.2f} s CPU  {kinds}")
            return wall, used

        cycle("cold (all new)")
        cycle("again (new -> unchanged)")  # each feed's last result changes once more
        _, cpu_same = cycle("nothing changed")
        for i in random.Random(1).sample(range(feeds), int(feeds * changed)):
            versions[i] += 1
        wall, cpu_mixed = cycle(f"{changed:.0%} changed")
        per_same = cpu_same / feeds
        n_changed = int(feeds * changed)
        per_changed = (cpu_mixed - per_same * (feeds - n_changed)) / max(n_changed, 1)
        rss = _rss_mb()
        fetcher.close()
        engine.dispose()

        sample = urls[:naive_sample]
        started = time.perf_counter()
        for url in sample:
            feedparser.parse(url)
        naive_each = (time.perf_counter() - started) / len(sample)
        naive = naive_each * feeds
        document = _document(0, 0, items)
        started = time.perf_counter()
        for _ in range(20):
            feedparser.parse(io.BytesIO(document))
        parse_each = (time.perf_counter() - started) / 20

    print(
        f"feedparser alone:        {parse_each * 1000:.1f} ms for one of these feeds, "
        f"{parse_each / items * 1000:.2f} ms an item{_recorded_cost()}"
    )
    print(f"cycle with {changed:.0%} changed:   {wall:.2f} s            (target <= 15 s)")
    print(f"CPU per unchanged feed:  {per_same * 1000:.2f} ms           (target <= 2 ms)")
    print(f"CPU per changed feed:    {per_changed * 1000:.2f} ms")
    print(f"peak RSS:                {rss:.0f} MB             (target <= 150 MB)")
    print(
        f"naive loop:              {naive:.1f} s  (feedparser.parse(url), "
        f"{naive_each * 1000:.1f} ms a feed, {len(sample)} of {feeds} timed and extrapolated)"
    )
    print(f"speed-up over naive:     {naive / wall:.1f}x            (target >= 10x)")


RECORDED = (
    Path(__file__).parents[2] / "shared/fixtures/google-news/en-US_search_bears-ears_2026-07.xml"
)


def _recorded_cost() -> str:
    """What feedparser spends an item of a recorded Google News feed, read in place."""
    import feedparser

    if not RECORDED.exists():
        return ""
    body = RECORDED.read_bytes()
    entries = len(feedparser.parse(io.BytesIO(body)).entries)
    if not entries:
        return ""
    started = time.perf_counter()
    for _ in range(10):
        feedparser.parse(io.BytesIO(body))
    each = (time.perf_counter() - started) / 10 / entries
    return f" (a recorded Google News feed: {each * 1000:.2f} ms an item)"


def _monitor(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import app; app()", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _polls(log: Path) -> list[tuple[float, str]]:
    """(time, feed URL) of each poll a replica logged."""
    polls = []
    for line in log.read_text(errors="replace").splitlines():
        if '"event": "poll"' in line:
            record = json.loads(line)
            polls.append((datetime.fromisoformat(record["time"]).timestamp(), record["feed"]))
    return polls


def bench_replicas(replicas: int, feeds: int, items: int, window: float, admin_url: str) -> None:
    """N `monitor run` on one fresh PostgreSQL database: polls per second, together and alone."""
    from sqlalchemy import create_engine, text

    name = f"monitor_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with feed_server(feeds, items) as (base, _), tempfile.TemporaryDirectory() as tmp:
            rules = Path(tmp) / "bench.yaml"
            _write_rules(rules, base, feeds, "10s")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "SLACK_"))}
            env.update(
                MONITOR_DATABASE_URL=url,
                MONITOR_RULES=str(rules),
                MONITOR_LOG_FORMAT="json",
                MONITOR_PER_HOST="16",
            )
            logs = [Path(tmp) / f"replica-{n}.log" for n in range(replicas)]
            for n, log in enumerate(logs):
                port = 19200 + n
                replica_env = {
                    **env,
                    "MONITOR_REPLICA_ID": f"bench-{n}",
                    "MONITOR_HTTP_ADDR": f"127.0.0.1:{port}",
                }
                procs.append(_monitor(replica_env, log))
            print(f"{replicas} replicas, {feeds} feeds x {items} items every 10 s, PostgreSQL")
            # Warm up: every feed polled once (its articles stored), so that what follows
            # is the steady state of unchanged feeds.
            started = time.time()
            while len({feed for log in logs for _, feed in _polls(log)}) < feeds:
                if time.time() - started > 1800:
                    raise SystemExit("warm-up took over 30 minutes")
                time.sleep(2)
            print(f"  warm-up (every feed polled once): {time.time() - started:.0f} s")
            together = time.time()
            time.sleep(window)
            alone = time.time()
            for proc in procs[1:]:
                proc.send_signal(signal.SIGTERM)
            for proc in procs[1:]:
                proc.wait(timeout=60)
            time.sleep(window)
            end = time.time()
            procs[0].send_signal(signal.SIGTERM)
            procs[0].wait(timeout=60)
            counts = [[at for at, _ in _polls(log)] for log in logs]
        per = [sum(together <= t < alone for t in ts) / window for ts in counts]
        for n, rate in enumerate(per):
            print(f"  replica {n}, {replicas} running:   {rate:6.1f} polls/s")
        print(f"  total, {replicas} running:        {sum(per):6.1f} polls/s")
        solo = sum(alone + 2 <= t < end for t in counts[0]) / (window - 2)
        print(f"  replica 0 alone:            {solo:6.1f} polls/s  (same run, the others stopped)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, help="default 1000, or 3000 with --replicas")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--changed", type=float, default=0.10, help="share changing per cycle")
    parser.add_argument("--naive-sample", type=int, default=50, help="feeds the naive loop times")
    parser.add_argument("--etag", action="store_true", help="feeds send ETags and answer 304")
    parser.add_argument("--replicas", type=int, help="run N `monitor run` on PostgreSQL instead")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per phase")
    parser.add_argument(
        "--postgres", default=os.environ.get("MONITOR_TEST_POSTGRES", POSTGRES), help="server"
    )
    args = parser.parse_args()
    if args.replicas:
        bench_replicas(args.replicas, args.feeds or 3000, args.items, args.window, args.postgres)
    else:
        bench_single(args.feeds or 1000, args.items, args.changed, args.naive_sample, args.etag)


if __name__ == "__main__":
    main()
