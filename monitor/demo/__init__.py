"""`monitor demo`: the whole pipeline on recorded news, with no network and no configuration.

The recorded news (`news.json`) is served as real RSS and Atom documents from a loopback
HTTP server, so the demo exercises the same fetch, parse, extract, attribute, diff and
deliver code as `monitor run --once`; only the feed addresses and the database differ.
"""

from __future__ import annotations

import hashlib
import json
import signal
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from rich.console import Console
from sqlmodel import col, func, select

from monitor import store
from monitor.alerts import format_money
from monitor.settings import Settings
from monitor.store import AlertRow, ArticleRow, ClaimRow, ObservationRow

WATCH_FILE = "watch.yaml"
NEWS_FILE = "news.json"
BASE_PLACEHOLDER = "{base}"


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One rendered feed as the loopback server sends it."""

    body: bytes
    content_type: str


class _DemoSettings(Settings):
    """Settings from the keyword arguments only.

    A user's SLACK_BOT_TOKEN, MONITOR_DATABASE_URL or `.env` must not send the demo's
    alerts to a real channel or write them into a real database.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def run_demo(console: Console, serve_port: int | None = None) -> int:
    """Serve the recorded news, run one poll of every feed, print the alerts and a summary;
    with `serve_port`, then serve the pages on loopback until Ctrl-C."""
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        results = record_demo(url, Path(tmp), console)
        failed = [r for r in results if r.result == "failed"]
        engine = store.open_store(url)
        try:
            _print_summary(console, engine, len(results), failed, serving=serve_port is not None)
            if serve_port is not None:
                _serve_pages(console, engine, Path(tmp), serve_port)
        finally:
            engine.dispose()
    return 1 if failed else 0


def record_demo(database_url: str, workdir: Path, console: Console) -> list[Any]:
    """The demo's data in `database_url`: its recorded news served on loopback, polled once
    through the daemon's own code, and its alerts delivered to `console`. Its rules file
    is written in `workdir` (`demo_rules`)."""
    from monitor.daemon import Daemon  # imported here: it pulls in the whole pipeline

    news = load_news()
    with _serve(render_feeds(news)) as base:
        rules = demo_rules(workdir)
        rules.write_text(watch_text(base), encoding="utf-8")
        fields: dict[str, Any] = {"database_url": database_url, "rules": rules}
        settings = _DemoSettings(**fields)
        console.print(
            f"Serving {len(news['items'])} recorded news items in {len(news['feeds'])} feeds "
            f"from {base}; database in {workdir}.\n"
            "Polling every feed once; each alert below is what would be posted to Slack.\n",
            highlight=False,
        )
        daemon = Daemon(settings, out=cast(TextIO, console.file))
        try:
            # Not Daemon.run_once(): it polls the feeds concurrently, so the alerts would
            # come out in a different order on every run.
            results = [r for url in daemon.ctx.feeds() if (r := daemon.poll(url, force=True))]
            daemon.deliver()
        finally:
            daemon.fetcher.close()
            daemon.engine.dispose()
    return results


def demo_rules(workdir: Path) -> Path:
    """Where `record_demo` writes the demo's rules file."""
    return workdir / "ai-chip-funding.yaml"


def _serve_pages(console: Console, engine: Any, workdir: Path, port: int) -> None:
    """The daemon's pages of the demo's database on loopback, until Ctrl-C."""
    from monitor.health import serve
    from monitor.metrics import Metrics
    from monitor.rules import load_rules
    from monitor.web.routes import Web

    rules = load_rules(demo_rules(workdir))
    http = serve(f"127.0.0.1:{port}", lambda: None, Metrics(), pages=Web(engine, lambda: rules))
    base = f"http://127.0.0.1:{http.server_address[1]}"
    console.print(
        f"\nThe pages: {base}/ (every claim), for example {base}/claims/ai-chip-funding/"
        "samsung-us-fabs\nServing until Ctrl-C.",
        highlight=False,
    )
    console.file.flush()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # either way the temporary files are removed
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    http.shutdown()


def load_news() -> dict[str, Any]:
    """The recorded news shipped with the package: `{"feeds": {...}, "items": [...]}`."""
    text = resources.files(__package__).joinpath(NEWS_FILE).read_text(encoding="utf-8")
    news: dict[str, Any] = json.loads(text)
    return news


def watch_text(base: str) -> str:
    """The demo's rules file, its feeds pointing at the server at `base`."""
    text = resources.files(__package__).joinpath(WATCH_FILE).read_text(encoding="utf-8")
    return text.replace(BASE_PLACEHOLDER, base)


def feed_path(name: str) -> str:
    """The path the server answers for feed `name`, as `watch.yaml` names it."""
    return f"/feeds/{name}.xml"


def render_feeds(news: Mapping[str, Any]) -> dict[str, FeedDocument]:
    """Every feed of `news` as the document a server would send, keyed by request path."""
    documents = {}
    for name, feed in news["feeds"].items():
        items = [item for item in news["items"] if item["feed"] == name]
        items.sort(key=lambda item: item["published"], reverse=True)  # newest first, as sites do
        if feed["format"] == "atom":
            xml, mime = _atom(feed, items), "application/atom+xml"
        else:
            xml, mime = (
                _rss(feed, items, google_news=feed["format"] == "google-news"),
                ("application/rss+xml"),
            )
        encoding = feed.get("encoding", "utf-8")
        declared = f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'
        body = (declared + xml).encode(encoding, errors="xmlcharrefreplace")
        documents[feed_path(name)] = FeedDocument(body, f"{mime}; charset={encoding.upper()}")
    return documents


def _rss(feed: Mapping[str, Any], items: list[dict[str, Any]], *, google_news: bool) -> str:
    """RSS 2.0; Google News shaped feeds title items "Headline - Publisher" with a <source>."""
    entries = []
    for item in items:
        title, link = item["title"], item["link"]
        extra, permalink = "", "true"
        if google_news:
            source = item["source"]
            home = "{0.scheme}://{0.netloc}".format(urlsplit(link))
            title = f"{title} - {source}"
            permalink = "false"
            extra = f'\n      <source url="{escape(home)}">{escape(source)}</source>'
        entries.append(
            f"""    <item>
      <title>{escape(title)}</title>
      <link>{escape(link)}</link>
      <guid isPermaLink="{permalink}">{escape(_guid(item, google_news))}</guid>
      <pubDate>{format_datetime(datetime.fromisoformat(item["published"]))}</pubDate>
      <description>{escape(f"<p>{escape(item['summary'])}</p>")}</description>{extra}
    </item>"""
        )
    return f"""<rss version="2.0">
  <channel>
    <title>{escape(feed["title"])}</title>
    <link>{escape(feed["link"])}</link>
    <description>{escape(feed["title"])}</description>
    <language>{escape(feed["lang"])}</language>
{chr(10).join(entries)}
  </channel>
</rss>
"""


def _guid(item: Mapping[str, Any], google_news: bool) -> str:
    """Google News ids are opaque tokens; publishers use the article's address."""
    if not google_news:
        return str(item["link"])
    return "CBMi" + hashlib.sha1(item["link"].encode(), usedforsecurity=False).hexdigest()


def _atom(feed: Mapping[str, Any], items: list[dict[str, Any]]) -> str:
    entries = [
        f"""  <entry>
    <title>{escape(item["title"])}</title>
    <id>{escape(item["link"])}</id>
    <link rel="alternate" type="text/html" href="{escape(item["link"])}"/>
    <published>{item["published"]}</published>
    <updated>{item["published"]}</updated>
    <author><name>{escape(feed["title"])}</name></author>
    <summary type="html">{escape(f"<p>{escape(item['summary'])}</p>")}</summary>
  </entry>"""
        for item in items
    ]
    updated = items[0]["published"] if items else "2024-01-01T00:00:00+00:00"
    return f"""<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(feed["lang"])}">
  <title>{escape(feed["title"])}</title>
  <id>{escape(feed["link"])}</id>
  <link rel="alternate" type="text/html" href="{escape(feed["link"])}"/>
  <updated>{updated}</updated>
{chr(10).join(entries)}
</feed>
"""


@contextmanager
def _serve(documents: Mapping[str, FeedDocument]) -> Iterator[str]:
    """Serve `documents` on a free loopback port; yields the base URL, stops on exit."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = documents.get(urlsplit(self.path).path)
            if document is None:
                self.send_error(404, "no such demo feed")
                return
            self.send_response(200)
            self.send_header("Content-Type", document.content_type)
            self.send_header("Content-Length", str(len(document.body)))
            self.end_headers()
            self.wfile.write(document.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the demo's output is the alerts, not an access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _print_summary(
    console: Console, engine: Any, feeds: int, failed: list[Any], *, serving: bool
) -> None:
    """What the run did, in numbers a person can check against the alerts above."""
    with store.session(engine) as s:
        articles = s.exec(select(func.count()).select_from(ArticleRow)).one()
        outcomes = Counter(s.exec(select(ObservationRow.outcome)).all())
        alerts = Counter(s.exec(select(AlertRow.kind)).all())
        claims = s.exec(select(ClaimRow).order_by(col(ClaimRow.id))).all()
        changes = s.exec(
            select(AlertRow)
            .where(AlertRow.kind == "change")
            .order_by(col(AlertRow.as_of), col(AlertRow.id))
        ).all()
        by_claim: dict[str, list[AlertRow]] = {}
        for alert in changes:
            by_claim.setdefault(alert.claim or "", []).append(alert)
        rows = [(claim, by_claim.get(claim.id, [])) for claim in claims]

    print_ = console.print
    print_()
    console.rule("Summary")
    print_(
        f"{feeds} feeds polled ({len(failed)} failed), {articles} articles stored, "
        f"{sum(outcomes.values())} figures attributed to claims, "
        f"{alerts['change']} change alerts, {alerts['corroboration']} corroborations.",
        highlight=False,
    )
    for result in failed:
        print_(f"  failed: {result.url}: {result.error}", highlight=False)
    if outcomes:
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        print_(f"Figures by outcome: {detail}.", highlight=False)
    print_()
    print_("Claims: value on record -> value reported since", highlight=False)
    for claim, claim_changes in rows:
        if claim_changes:
            reported = ", then ".join(_reported(alert) for alert in claim_changes)
        else:
            reported = "unchanged"
        print_(f"  {claim.id}: {claim.value} ({claim.as_of}) -> {reported}", highlight=False)
    print_()
    print_(
        "What next:\n"
        "  1. Write a watch: `monitor rules draft article.txt -o rules/mine.yaml` drafts one\n"
        "     from an article of your story (read its `# check` lines), then\n"
        "     `monitor rules check rules/`; `monitor backfill WATCH --since D` fills its history.\n"
        "  2. Choose where alerts go: SLACK_BOT_TOKEN and SLACK_CHANNEL (threads corroborations),\n"
        "     or SLACK_WEBHOOK_URL; with neither, alerts are printed like the ones above.\n"
        "  3. `monitor run --once` to poll everything once, then `monitor run` to keep watching.\n"
        "  4. `monitor explain URL` says why each figure of a stored article was tied to a\n"
        '     claim or not; each alert above says it too, under "Why this claim".'
        + (
            ""
            if serving
            else "\n  5. `monitor demo --serve` keeps the demo's pages up: each claim's reports "
            "as a\n     chart, at http://127.0.0.1:9108/ (as `monitor run` serves them)."
        ),
        highlight=False,
    )


def _reported(alert: AlertRow) -> str:
    """`$44 billion (2024-04-15, Reuters)`: a change alert's value, day and source."""
    assert alert.low is not None and alert.high is not None and alert.currency is not None
    publisher = json.loads(alert.payload).get("publisher") or "unknown source"
    return f"{format_money(alert.low, alert.high, alert.currency)} ({alert.as_of}, {publisher})"
