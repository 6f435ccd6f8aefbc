"""The daemon's pages (issue 12): the demo's data on SQLite and PostgreSQL, escaping, the
chart's marks, the HTTP headers, `monitor history --plot` and `monitor demo --serve`."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine, event
from sqlmodel import col, select

from monitor import store
from monitor.decisions import OnRecord
from monitor.demo import demo_rules, record_demo
from monitor.health import serve
from monitor.metrics import Metrics
from monitor.rules import load_rules
from monitor.store import AlertRow, ArticleRow, ClaimRow, ObservationRow
from monitor.web import chart, pages, read
from monitor.web.routes import Web
from monitor.web.story import Report, Story
from tests import webdata
from tests.daemon_helpers import (
    MONITOR,
    free_port,
    http_get,
    monitor_env,
    run_monitor,
    start_monitor,
    wait_for,
)
from tests.feeddocs import news_items, rss20
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r'<path class="m o-([a-z]+)( cv)?"')
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def _text(response: object) -> str:
    return response.body.decode("utf-8")  # type: ignore[attr-defined]


@pytest.fixture
def demo_web(engine: Engine, tmp_path: Path) -> Web:
    """The demo's recorded news, through the daemon's own poll path, into `engine`'s database."""
    url = engine.url.render_as_string(hide_password=False)
    results = record_demo(url, tmp_path, Console(file=io.StringIO()))
    assert results and not [r for r in results if r.result == "failed"]
    rules = load_rules(demo_rules(tmp_path))
    return Web(engine, lambda: rules)


def test_demo_pages_show_every_claim_report_alert_and_feed(demo_web: Web, engine: Engine) -> None:
    with store.session(engine) as s:
        claims = s.exec(select(ClaimRow)).all()
        observed = s.exec(
            select(ObservationRow, ArticleRow)
            .join(ArticleRow)
            .where(col(ObservationRow.claim).is_not(None))
        ).all()
        alerts = s.exec(select(AlertRow)).all()
    index = demo_web("/")
    assert index.status == 200 and "AI chip supply-chain fundraising" in _text(index)
    open_alerts = {
        c.id: sum(a.claim == c.id and a.kind == "change" and not a.decision for a in alerts)
        for c in claims
    }
    assert sum(open_alerts.values()) >= 4  # the demo's four changes
    for c in claims:
        row = _text(index).split(f'href="/claims/ai-chip-funding/{c.id}"')[1].split("</tr>")[0]
        assert f">{open_alerts[c.id]}<" in row, c.id
        page = _text(demo_web(f"/claims/ai-chip-funding/{c.id}"))
        mine = [(o, a) for o, a in observed if o.claim == c.id]
        assert len(MARK.findall(page)) == len(mine), c.id  # one mark per observation
        for o, a in mine:
            assert f'href="{a.url}"' in page  # the mark and the row link to the article
            assert o.quote.replace('"', "&quot;").replace("'", "&#x27;") in page
    target = _text(demo_web("/claims/ai-chip-funding/chip-venture-target"))
    assert "o-change" in target and "o-unchanged" in target and " cv" in target
    assert "9천조 원" in target  # Korean as written, converted: a hollow mark
    outbox = _text(demo_web("/alerts"))
    assert all(f"<td class=n>{a.id}</td>" in outbox for a in alerts)
    feeds = _text(demo_web("/feeds"))
    assert all(url in feeds for url in demo_web.rules().feeds())


def _story(*reports: Report, currency: str = "KRW") -> Story:
    record = OnRecord("622조원", 622e12, 622e12, "KRW", date(2024, 1, 15))
    return Story("w", "c", "Cluster <b>total</b>", currency, [record], list(reports))


def _report(
    text: str = "622조원",
    low: float = 622e12,
    high: float | None = None,
    currency: str = "KRW",
    outcome: str = "unchanged",
    **fields: object,
) -> Report:
    values: dict[str, object] = {
        "published": datetime(2024, 2, 1, tzinfo=UTC),
        "publisher": "연합뉴스",
        "title": "정부, 622조원 투입",
        "url": "https://news.example/a",
        "text": text,
        "low": low,
        "high": low if high is None else high,
        "currency": currency,
        "usd_low": None,
        "usd_high": None,
        "outcome": outcome,
        "quote": "정부는 622조원을 투입한다",
        "why": None,
    } | fields
    return Report(**values)  # type: ignore[arg-type]


def test_feed_text_is_escaped_and_only_http_links_are_links() -> None:
    story = _story(
        _report(title=HOSTILE, publisher=HOSTILE, quote=HOSTILE, url="javascript:alert(1)"),
        _report(text=HOSTILE, url='https://news.example/"><script>x</script>'),
    )
    drawn = chart.draw(story)
    html = pages.claim(story, drawn, 1)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html  # shown, as text
    assert "javascript:" not in html  # never an href
    assert 'href="https://news.example/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert len(MARK.findall(drawn.svg)) == 2


def test_chart_tells_outcomes_conversions_ranges_and_missing_rates_apart() -> None:
    story = _story(
        _report(outcome="change", low=700e12),
        _report(outcome="corroboration", low=700e12),
        _report(outcome="dismissed", low=622e15),  # a unit read 1,000x off
        _report("$467 billion", 467e9, currency="USD", usd_low=467e9, usd_high=467e9),
        _report("200조~650조원", 200e12, 650e12),
        _report("10 zorkmids", 10, currency="XZK"),
    )
    drawn = chart.draw(story)
    marks = MARK.findall(drawn.svg)
    assert sorted(kind for kind, _ in marks) == [
        "change",
        "corroboration",
        "dismissed",
        "unchanged",
        "unchanged",
    ]
    assert [kind for kind, hollow in marks if hollow] == ["unchanged"]  # the USD report
    assert drawn.no_rate == 1 and drawn.converted == 1
    assert drawn.log  # 622경 among 600조s: a log scale, said on the axis
    assert "vertical: KRW (the claim's currency, log scale)" in drawn.svg
    ranged = [m for m in re.findall(r'<path class="m [^"]*" d="([^"]*)"', drawn.svg) if "V" in m]
    assert len(ranged) == 1  # only the range has a bar
    html = pages.claim(story, drawn, 1)
    assert "1 not drawn: no exchange rate" in html and "10 zorkmids" in html
    in_usd = chart.draw(story, "USD")
    assert "vertical: USD (converted at each report" in in_usd.svg
    assert in_usd.converted == 4  # every KRW report drawn is hollow in USD


def test_reading_a_story_takes_the_same_few_queries_at_any_size(engine: Engine) -> None:
    webdata.seed(engine, 1000)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with store.session(engine) as s:
        story = read.story(s, webdata.WATCH, webdata.CLAIM)
    assert story is not None and len(story.reports) == 1000
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) <= 3
    drawn = chart.draw(story)
    assert drawn.marks == 1000 == len(MARK.findall(drawn.svg))
    html = pages.claim(story, drawn, 3)
    assert html.count("<tr><td class=n>") == pages.PAGE_SIZE  # the table is paged
    assert "201–300 of 1,000" in html and "page=2" in html and "page=4" in html


@pytest.fixture
def http(engine: Engine) -> Iterator[str]:
    webdata.seed(engine, 12, title=lambda i: HOSTILE)
    rules = load_rules(ROOT / "rules")
    addr = f"127.0.0.1:{free_port()}"
    server = serve(addr, lambda: None, Metrics(), pages=Web(engine, lambda: rules))
    yield f"http://{addr}"
    server.shutdown()
    server.server_close()


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_pages_are_served_read_only_with_a_strict_policy(http: str) -> None:
    status, headers, body = _get(f"{http}/claims/{webdata.WATCH}/{webdata.CLAIM}")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in body and "Noto Sans CJK KR" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    for style in re.findall(r"<style>(.*?)</style>", body):  # each inline style by its hash
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert len(MARK.findall(body)) == 12 and "<script" not in body
    assert _get(f"{http}/claims/{webdata.WATCH}/nope")[0] == 404
    assert "no claim &#x27;nope&#x27;" in _get(f"{http}/claims/{webdata.WATCH}/nope")[2]
    missing = _get(f"{http}/nowhere")
    assert missing[0] == 404 and "/claims/WATCH/CLAIM" in missing[2]
    assert _get(f"{http}/", "POST")[0] == 404  # nothing is written through the pages
    assert _get(f"{http}/healthz")[0] == 200
    assert _get(f"{http}/alerts")[0] == 200 and _get(f"{http}/feeds")[0] == 200
    index = _get(f"{http}/")[2]
    assert f'href="/claims/{webdata.WATCH}/{webdata.CLAIM}"' in index


def test_history_plot_writes_the_pages_chart(tmp_path: Path) -> None:
    env = monitor_env(tmp_path, ROOT / "rules")
    engine = store.open_store(env["MONITOR_DATABASE_URL"])
    webdata.seed(engine, 40)
    engine.dispose()
    svg = tmp_path / "cluster.svg"
    result = run_monitor(["history", webdata.CLAIM, "--plot", str(svg)], env)
    assert result.returncode == 0, result.stderr
    assert "40 reports of chips/cluster in KRW" in result.stdout
    assert len(MARK.findall(svg.read_text(encoding="utf-8"))) == 40
    png = tmp_path / "cluster.png"
    result = run_monitor(["history", f"{webdata.WATCH}/{webdata.CLAIM}", "--plot", str(png)], env)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run_monitor(["history", "nope", "--plot", str(svg)], env)
    assert result.returncode == 1 and 'no claim "nope"' in result.stderr


def test_demo_serve_keeps_its_pages_up_until_stopped(tmp_path: Path) -> None:
    env = monitor_env(tmp_path, ROOT / "rules")
    proc = subprocess.Popen(
        [*MONITOR, "demo", "--serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = None
        for line in proc.stdout:
            if found := re.search(r"The pages: (http://127\.0\.0\.1:\d+)/", line):
                base = found.group(1)
                break
        assert base, proc.stderr.read() if proc.stderr else ""
        status, _, page = _get(f"{base}/claims/ai-chip-funding/samsung-us-fabs")
        assert status == 200 and len(MARK.findall(page)) >= 5
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_monitor_run_serves_the_pages_of_its_running_rules(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route("/feed.xml", rss20(news_items(2)))
    rules = tmp_path / "watch.yaml"
    watch = (
        "watch: pages\ntitle: {title}\nentities:\n  altman: [Sam Altman]\n"
        f"feeds:\n  - url: {feed_server.url('/feed.xml')}\n    every: 1h\n"
        "claims:\n  - id: target\n    about: [altman]\n    topic: [chip]\n"
        '    value: "$7 trillion"\n    as_of: 2024-02-08\n'
    )
    rules.write_text(watch.format(title="First title"), encoding="utf-8")
    env = monitor_env(tmp_path, rules)
    proc = start_monitor(["run"], env, tmp_path / "daemon.log")
    try:
        base = f"http://{env['MONITOR_HTTP_ADDR']}"
        wait_for(lambda: http_get(base + "/healthz")[0] == 200, 30, "/healthz to answer 200")
        status, index = http_get(base + "/")
        assert status == 200 and "First title" in index
        assert 'href="/claims/pages/target"' in index
        assert http_get(base + "/claims/pages/target")[0] == 200
        assert feed_server.url("/feed.xml") in http_get(base + "/feeds")[1]
        rules.write_text(watch.format(title="Second title"), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)  # the pages follow the reloaded rules
        wait_for(lambda: "Second title" in http_get(base + "/")[1], 20, "the new title")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
