"""Server time of a claim's page at 10,000 observations, against the same page at 1,000.

    .venv/bin/python bench/render.py                  # SQLite in a temporary directory
    .venv/bin/python bench/render.py --database postgresql+psycopg://postgres@127.0.0.1/x

Each size is a claim of its own in a fresh database (tests/webdata.py writes it: reports
from 7 outlets, every fifth in another currency, every seventh a range), served by the
daemon's own HTTP server. Server time is the time the page handler takes for
`/claims/WATCH/CLAIM` (reading every observation, drawing a mark for each, writing the
HTML), in wall time and in the CPU time of the serving thread (on a shared machine the
wall time includes waiting for a core); the GET's wall time on loopback, which adds sending
the page, is printed beside it. Each is the median of `--runs` requests after one warm-up
(and the best, for the wall time). Target (issue 12): under 300 ms of server time at 10,000
observations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parents[1]))

from monitor import store
from monitor.health import serve
from monitor.metrics import Metrics
from monitor.rules import load_rules
from monitor.web import chart, read
from monitor.web.routes import Web
from tests import webdata
from tests.daemon_helpers import free_port

ROOT = Path(__file__).parents[1]


def measure(url: str, n: int, runs: int) -> dict[str, float]:
    """Median seconds of each step, and of the whole page, for a claim of `n` reports."""
    engine = store.open_store(url)
    webdata.seed(engine, n)
    rules = load_rules(ROOT / "rules")
    web = Web(engine, lambda: rules)
    path = f"/claims/{webdata.WATCH}/{webdata.CLAIM}"
    handler: list[float] = []
    cpu: list[float] = []

    def timed(target: str) -> object:
        start, used = time.perf_counter(), time.thread_time()
        page = web(target)
        handler.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - used)
        return page

    addr = f"127.0.0.1:{free_port()}"
    http = serve(addr, lambda: None, Metrics(), pages=timed)  # type: ignore[arg-type]
    wall, reads, draws, size = [], [], [], 0
    try:
        for i in range(runs + 1):
            start = time.perf_counter()
            with urllib.request.urlopen(f"http://{addr}{path}", timeout=60) as response:
                size = len(response.read())
            if i:  # the first warms caches (rates, statements)
                wall.append(time.perf_counter() - start)
            start = time.perf_counter()
            with store.session(engine) as s:
                story = read.story(s, webdata.WATCH, webdata.CLAIM)
            reads.append(time.perf_counter() - start)
            assert story is not None
            start = time.perf_counter()
            drawn = chart.draw(story)
            draws.append(time.perf_counter() - start)
            assert drawn.marks == n
    finally:
        http.shutdown()
        http.server_close()
        engine.dispose()
    return {
        "server": statistics.median(handler[1:]),
        "cpu": statistics.median(cpu[1:]),
        "best": min(handler[1:]),
        "wall": statistics.median(wall),
        "read": statistics.median(reads[1:]),
        "chart": statistics.median(draws[1:]),
        "bytes": size,
    }


def _database(base: str | None, tmp: Path, n: int) -> str:
    """A fresh database for one size: a SQLite file, or a new PostgreSQL database."""
    if base is None:
        return f"sqlite:///{tmp / f'render-{n}.db'}"
    name = f"bench_render_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def _drop(base: str, url: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="a PostgreSQL URL to create databases beside")
    parser.add_argument("--runs", type=int, default=7, help="requests measured per size")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database else "SQLite"
    print(f"claim page, {kind}, median of {args.runs} requests after a warm-up")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        for n in (1_000, 10_000):
            url = _database(args.database, Path(tmp), n)
            try:
                r = measure(url, n, args.runs)
            finally:
                if args.database:
                    _drop(args.database, url)
            results[n] = r
            print(
                f"  {n:>6,} observations: server {r['server'] * 1000:6.1f} ms, "
                f"CPU {r['cpu'] * 1000:6.1f} ms (read {r['read'] * 1000:5.1f}, "
                f"chart {r['chart'] * 1000:5.1f}), "
                f"GET on loopback {r['wall'] * 1000:6.1f} ms, page {r['bytes'] / 1e6:.2f} MB"
            )
    ratio = results[10_000]["server"] / results[1_000]["server"]
    big = {k: v * 1000 for k, v in results[10_000].items()}
    print(f"10,000 vs 1,000: {ratio:.1f}x the server time for 10x the observations")
    print(
        f"server time at 10,000: median {big['server']:.0f} ms (best {big['best']:.0f} ms), "
        f"{big['cpu']:.0f} ms of CPU (target < 300 ms); load average now "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
