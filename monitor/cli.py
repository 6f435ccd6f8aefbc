"""The `monitor` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from monitor import __version__
from monitor.errors import MonitorError
from monitor.safetext import clip, escape_in_json, printable

# Every command imports what it needs itself: a command (or --version) pays only for its
# own stack, not for sqlmodel, httpx, slack-sdk, feedparser and APScheduler.
if TYPE_CHECKING:
    from rich.table import Table

    from monitor.settings import Settings

app = typer.Typer(
    help="Watch the news for the money figures a story rests on, and tell Slack when they change.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,  # locals could hold a Slack token
)
rules_app = typer.Typer(
    help="Check the rules files, or print their JSON Schema.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")
# Feed text is printed as it is, never read as rich markup ("[/bold]") or emoji codes.
out = Console(soft_wrap=True, markup=False, highlight=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False, emoji=False)
CELL_LIMIT = 500  # characters of one table cell; rendering a 100 kB cell took 17 s

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """Errors of ours become a message and exit code 2, not a traceback."""
    try:
        yield
    except MonitorError as exc:
        err.print(Text.assemble(("error:", "red"), " ", printable(str(exc))))
        raise typer.Exit(2) from None


def _say(console: Console, text: str) -> None:
    """Print a line that may hold feed text: without control or bidi characters."""
    console.print(printable(text))


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A table of feed text: each cell printable and clipped, so that rendering stays quick."""
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(Text(printable(clip(str(cell), CELL_LIMIT))) for cell in row))
    return table


def _engine(settings: Settings) -> Any:
    from monitor import store

    with _friendly_errors():
        return store.open_store(settings.database_url)


def _print_json(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False, default=str, indent=2)
    sys.stdout.write(escape_in_json(text) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"funding-monitor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    """Watch the news for the money figures a story rests on, and tell Slack when they change."""


@app.command()
def run(
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Poll every feed once, deliver pending alerts, and exit (for cron and tests).",
        ),
    ] = False,
) -> None:
    """Run the daemon: poll the feeds on their schedules and alert Slack on changed figures.

    Reloads the rules on SIGHUP; stops cleanly on SIGTERM or Ctrl-C. Exits non-zero only
    when it cannot run: invalid rules, an unreachable database, or rejected Slack credentials.
    """
    from monitor import logs
    from monitor.daemon import Daemon
    from monitor.settings import Settings

    settings = Settings()
    logs.setup(
        settings.log_level,
        settings.log_format,
        secrets=(
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_webhook_url,
            settings.slack_signing_secret,
        ),
    )
    with _friendly_errors():
        daemon = Daemon(settings)
    if not once:
        raise typer.Exit(daemon.run())
    results = daemon.run_once()
    failed = [r for r in results if r.result == "failed"]
    new = sum(r.new_articles for r in results)
    err.print(f"polled {len(results)} feeds: {new} new articles, {len(failed)} failed")
    for r in failed:
        _say(err, f"  failed: {r.url}: {r.error}")


@app.command()
def init() -> None:
    """Create or upgrade the database schema, load the claims and, on PostgreSQL, the schedules.

    `monitor run` does this itself, one replica at a time (a PostgreSQL advisory lock), so
    this is optional; run it to set up or check a database before starting the replicas.
    """
    from monitor.daemon import initialize
    from monitor.settings import Settings

    settings = Settings()
    with _friendly_errors():
        rules = initialize(settings)
    claims = sum(len(w.claims) for w in rules.watches)
    feeds = sum(len(w.feeds) for w in rules.watches)
    shared = f", {feeds} feeds scheduled for replicas" if settings.shared else ""
    out.print(f"database ready: {claims} claims from {len(rules.watches)} watches{shared}")


@rules_app.command("check")
def rules_check(
    path: Annotated[
        Path | None, typer.Argument(help="A rules file or directory (default: MONITOR_RULES).")
    ] = None,
) -> None:
    """Validate every rules file; print each problem as file:line: key: what was expected."""
    from monitor.errors import RulesErrors
    from monitor.rules import load_rules
    from monitor.settings import Settings

    target = path or Settings().rules
    try:
        rules = load_rules(target)
    except RulesErrors as exc:
        for problem in exc.errors:
            _say(err, str(problem))
        _say(err, f"{len(exc.errors)} problem(s) in {target}")
        raise typer.Exit(1) from None
    for watch in rules.watches:
        _say(
            out,
            f"ok  {rules.files[watch.watch]}: {watch.watch}: {len(watch.entities)} entities, "
            f"{len(watch.feeds)} feeds, {len(watch.claims)} claims",
        )


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rules file, for editors that validate YAML."""
    from monitor.rules import json_schema

    _print_json(json_schema())


@app.command()
def extract(
    file: Annotated[
        Path | None, typer.Argument(help="Text to read, one text per line (default: stdin).")
    ] = None,
    as_json: JsonOption = False,
    on: Annotated[
        str | None,
        typer.Option("--date", help="Convert to USD at this date, YYYY-MM-DD (default: today)."),
    ] = None,
) -> None:
    """Read the money figures in each line of text, in Korean or English.

    With --json, prints exactly one JSON object per input line, in order.
    """
    from monitor.currency import last_rate_date, to_usd
    from monitor.figures import extract as read_figures

    # The default day needs the bundled rates, loaded (0.2 s) only once a figure is not in USD.
    day = _parse_date(on) if on else None
    rows: list[tuple[str, ...]] = []
    chunk: list[str] = []
    # News repeats its amounts; a conversion (about 10 µs) is done once for each.
    in_usd: dict[tuple[str, float, float], tuple[float | None, float | None]] = {}
    for line in _read_lines(file):
        figures: list[dict[str, Any]] = []
        for f in read_figures(line):
            usd: tuple[float | None, float | None] = (f.low, f.high)
            if f.currency != "USD":
                amount = (f.currency, f.low, f.high)
                if amount not in in_usd:
                    day = day or min(date.today(), last_rate_date())
                    try:
                        in_usd[amount] = to_usd(f, day)
                    except ValueError:
                        in_usd[amount] = (None, None)  # no rate for that currency
                usd = in_usd[amount]
            figures.append(
                {
                    "text": f.text,
                    "start": f.start,
                    "end": f.end,
                    "low": f.low,
                    "high": f.high,
                    "currency": f.currency,
                    "qualifier": f.qualifier,
                    "vague": f.vague,
                    "usd_low": usd[0],
                    "usd_high": usd[1],
                    **({"role": f.role} if f.role != "value" else {}),
                    **({"mixup": f.mixup} if f.mixup else {}),
                    **({"conversion_of": f.conversion_of} if f.conversion_of is not None else {}),
                }
            )
        if as_json:
            # Most lines hold no money: their object is written without the encoder's setup.
            chunk.append(
                f'{{"text": {_json_string(line)}, "figures": []}}\n'
                if not figures
                else _json_line({"text": line, "figures": figures}) + "\n"
            )
            if len(chunk) >= _JSON_CHUNK:
                sys.stdout.write(escape_in_json("".join(chunk)))
                chunk.clear()
            continue
        for i, fig in enumerate(figures):
            value = _span(fig["low"], fig["high"]) + (" (vague)" if fig["vague"] else "")
            dollars = _span(fig["usd_low"], fig["usd_high"]) if fig["usd_low"] is not None else "-"
            currency = fig["currency"] + (f" [mix-up? {fig['mixup']}]" if "mixup" in fig else "")
            first = line if i == 0 else ""
            rows.append((first, fig["text"], value, currency, fig["qualifier"], dollars))
        if not figures:
            rows.append((line, "-", "", "", "", ""))
    if as_json:
        sys.stdout.write(escape_in_json("".join(chunk)))
    else:
        out.print(_table(("text", "figure", "value", "currency", "qualifier", "USD"), rows))


_json_line = json.JSONEncoder(ensure_ascii=False).encode
_json_string = json.encoder.encode_basestring  # a str as JSON, as `_json_line` writes it
_JSON_CHUNK = 2000  # lines of --json output written at once


def _read_lines(file: Path | None) -> list[str]:
    """The lines of `file` (or stdin), split on newlines only, as a person counts them.

    Bytes that are not UTF-8 are read as U+FFFD, with a one-line warning saying where.
    """
    name = str(file) if file else "stdin"
    try:
        data = file.read_bytes() if file else sys.stdin.buffer.read()
    except OSError as exc:
        _say(err, f"error: cannot read {name}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        _say(
            err,
            f"warning: {name}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
            "such bytes were read as \ufffd. Convert the file to UTF-8 for exact quotes.",
        )
        text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _say(err, f'error: --date "{text}" is not a date; write it as YYYY-MM-DD')
        raise typer.Exit(2) from None


def _span(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"{low:,.0f}" if low == high else f"{low:,.0f} – {high:,.0f}"


@app.command()
def claims(as_json: JsonOption = False) -> None:
    """Every claim: its stored value, the known values, the latest report and how many sources.

    Known values are the stated value, the rules' `also` values and every alerted value:
    what a report is compared with (`--json` gives each as numbers).
    """
    from sqlalchemy import func
    from sqlmodel import select

    from monitor import store
    from monitor.diff import KnownValue, known_values
    from monitor.rules import load_rules
    from monitor.settings import Settings
    from monitor.store import AlertRow, ArticleRow, ClaimRow, ObservationRow

    settings = Settings()
    engine = _engine(settings)
    with _friendly_errors():
        rules = {(w.watch, c.id): c for w in load_rules(settings.rules).watches for c in w.claims}
    rows: list[dict[str, Any]] = []
    with store.session(engine) as s:
        for claim in s.exec(select(ClaimRow).order_by(ClaimRow.watch, ClaimRow.id)).all():
            where = (ObservationRow.watch == claim.watch, ObservationRow.claim == claim.id)
            latest = s.exec(
                select(ObservationRow, ArticleRow)
                .join(ArticleRow)
                .where(*where, ObservationRow.role == "value")
                .order_by(ArticleRow.published.desc())  # type: ignore[attr-defined]
            ).first()
            sources = s.exec(
                select(func.count(func.distinct(ArticleRow.publisher)))
                .join(ObservationRow)
                .where(*where)
            ).one()
            alerted = s.exec(
                select(AlertRow).where(
                    AlertRow.watch == claim.watch,
                    AlertRow.claim == claim.id,
                    AlertRow.kind == "change",
                )
            ).all()
            was_alerted = [
                KnownValue(a.low, a.high, a.currency, a.as_of, _reported_text(a.payload), a.key)
                for a in alerted
                if a.low is not None and a.high is not None and a.currency and a.as_of
            ]
            rule = rules.get((claim.watch, claim.id))
            known = (
                known_values(rule, was_alerted)
                if rule
                else [
                    KnownValue(claim.low, claim.high, claim.currency, claim.as_of, claim.value),
                    *was_alerted,
                ]
            )
            rows.append(
                {
                    "watch": claim.watch,
                    "claim": claim.id,
                    "title": claim.title,
                    "stored": claim.value,
                    "as_of": claim.as_of.isoformat(),
                    "known": [kv.text for kv in known],
                    "known_values": [
                        {
                            "text": kv.text,
                            "low": kv.low,
                            "high": kv.high,
                            "currency": kv.currency,
                            "as_of": kv.as_of.isoformat(),
                            "source": "alert" if kv.key else "rules",
                        }
                        for kv in known
                    ],
                    "latest": latest[0].text if latest else None,
                    "latest_published": latest[1].published.isoformat() if latest else None,
                    "latest_publisher": latest[1].publisher if latest else None,
                    "sources": sources,
                }
            )
    if as_json:
        _print_json(rows)
        return
    table = _table(
        ("claim", "stored", "known values", "latest report", "sources"),
        (
            (
                f"{r['watch']}/{r['claim']}\n{r['title']}",
                r["stored"],
                "\n".join(r["known"]),
                f"{r['latest']} ({r['latest_publisher']}, {r['latest_published'][:10]})"
                if r["latest"]
                else "-",
                r["sources"],
            )
            for r in rows
        ),
    )
    out.print(table)


def _reported_text(payload: str) -> str:
    return str(json.loads(payload)["reported"]["text"])


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Every feed: last poll, HTTP status, result, failures in a row and next poll."""
    from sqlmodel import select

    from monitor import store
    from monitor.rules import load_rules
    from monitor.settings import Settings
    from monitor.store import FeedState

    settings = Settings()
    engine = _engine(settings)
    with _friendly_errors():
        feeds = load_rules(settings.rules).intervals()
    with store.session(engine) as s:
        states = {r.url: r for r in s.exec(select(FeedState)).all()}
    rows: list[dict[str, Any]] = []
    for url, every in feeds.items():
        st = states.get(url)
        last = st.last_poll_at if st else None
        due = [last + timedelta(seconds=every)] if last else []
        if st and st.next_poll_at:
            due.append(st.next_poll_at)  # backing off
        next_run = max(due, default=None)
        rows.append(
            {
                "feed": url,
                "last_poll": last.isoformat() if last else None,
                "status": st.last_status if st else None,
                "result": st.last_result if st else "never polled",
                "failures": st.failures if st else 0,
                "error": st.last_error if st else None,
                "warning": st.warning if st else None,
                "next_run": next_run.isoformat() if next_run else "at start",
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = _table(
        ("feed", "last poll", "HTTP", "result", "failures", "next poll"),
        (
            (
                r["feed"],
                _ago(r["last_poll"]),
                r["status"] or "-",
                r["result"] + (f"\n{r['error']}" if r["error"] else ""),
                r["failures"],
                r["next_run"][:19],
            )
            for r in rows
        ),
    )
    out.print(table)


def _ago(iso: str | None) -> str:
    if not iso:
        return "never"
    seconds = (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


@app.command()
def history(
    claim: Annotated[str, typer.Argument(help="A claim id, or watch/claim.")],
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    everything: Annotated[
        bool,
        typer.Option("--all", help="Also list figures ambiguous between this claim and another."),
    ] = False,
) -> None:
    """Every observation of a claim, oldest first, with its quote and source.

    `monitor explain URL` says why each figure of an article was or was not tied.
    """
    from sqlalchemy import and_, or_
    from sqlmodel import select

    from monitor import store
    from monitor.settings import Settings
    from monitor.store import ArticleRow, ObservationRow

    engine = _engine(Settings())
    watch, _, claim_id = claim.rpartition("/")
    mine: Any = ObservationRow.claim == claim_id
    if everything:
        # Ambiguous rows hold their candidates as "a,b"; the LIKE narrows, Python decides.
        mine = or_(
            mine,
            and_(
                ObservationRow.claim.is_(None),  # type: ignore[union-attr]
                ObservationRow.candidates.contains(claim_id),  # type: ignore[union-attr]
            ),
        )
    query = select(ObservationRow, ArticleRow).join(ArticleRow).where(mine)
    if watch:
        query = query.where(ObservationRow.watch == watch)
    with store.session(engine) as s:
        found = [
            (o, a)
            for o, a in s.exec(query.order_by(ArticleRow.published, ObservationRow.id)).all()  # type: ignore[arg-type]
            if o.claim == claim_id or claim_id in (o.candidates or "").split(",")
        ]
    rows: list[dict[str, Any]] = [
        {
            "published": a.published.isoformat(),
            "watch": o.watch,
            "claim": o.claim,
            "candidates": o.candidates.split(",") if o.candidates else [],
            "figure": o.text,
            "low": o.low,
            "high": o.high,
            "currency": o.currency,
            "qualifier": o.qualifier,
            "role": o.role,
            "usd_low": o.usd_low,
            "usd_high": o.usd_high,
            "outcome": o.outcome,
            "mixup": o.mixup,
            "quote": o.quote,
            "why": o.why,
            "publisher": a.publisher,
            "title": a.title,
            "url": a.url,
        }
        for o, a in found
    ]
    if not rows:
        _say(err, f'no observations of claim "{claim}" yet (see `monitor claims` for the ids)')
    if as_json:
        _print_json(rows)
    elif as_csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["published"])
        writer.writeheader()
        writer.writerows(
            {k: printable(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows
        )
    elif rows:
        table = _table(
            ("published", "figure", "outcome", "publisher", "quote"),
            (
                (r["published"][:16], r["figure"], r["outcome"], r["publisher"], r["quote"])
                for r in rows
            ),
        )
        out.print(table)


@app.command()
def explain(
    url: Annotated[str, typer.Argument(help="The URL of a stored article.")],
    as_json: JsonOption = False,
) -> None:
    """Every money figure of a stored article: the claim it was tied to, or why none.

    The figures are read again under the current rules; each outcome is the one recorded
    when the article was stored ("not recorded" when the rules have changed since).
    """
    from sqlmodel import select

    from monitor import store
    from monitor.articles import canonical_url
    from monitor.attribution import explain as explain_figures
    from monitor.figures import extract
    from monitor.rules import load_rules
    from monitor.settings import Settings
    from monitor.store import ArticleRow, ObservationRow

    settings = Settings()
    with _friendly_errors():
        rules = load_rules(settings.rules)
    engine = _engine(settings)
    with store.session(engine) as s:
        article = s.exec(
            select(ArticleRow).where(ArticleRow.url.in_({url, canonical_url(url)}))  # type: ignore[attr-defined]
        ).first()
        if article is None:
            _say(err, f"no stored article has the URL {url}")
            raise typer.Exit(1)
        recorded = {
            (o.watch, o.start): o
            for o in s.exec(select(ObservationRow).where(ObservationRow.article_id == article.id))
        }
    feeds = rules.feeds()
    watches = [feeds[article.feed_url][0]] if article.feed_url in feeds else rules.watches
    text = "\n".join(p for p in (article.title, article.summary, article.body) if p)
    figures = extract(text)
    rows: list[dict[str, Any]] = []
    for watch in watches:
        for decision in explain_figures(watch, article.title, text, figures):
            stored = recorded.get((watch.watch, decision.figure.start))
            if decision.claim:
                outcome = stored.outcome if stored else "not recorded"
            elif decision.candidates:
                outcome = "ambiguous"
            else:
                outcome = "not tied"
            rows.append(
                {
                    "watch": watch.watch,
                    "figure": decision.figure.text,
                    "low": decision.figure.low,
                    "high": decision.figure.high,
                    "currency": decision.figure.currency,
                    "claim": decision.claim,
                    "candidates": list(decision.candidates),
                    "outcome": outcome,
                    "why": decision.why,
                    "not": {claim: why for claim, why in decision.rejected},
                    "quote": decision.quote,
                }
            )
    if as_json:
        _print_json({"url": article.url, "title": article.title, "figures": rows})
        return
    _say(out, f"{article.title}\n{article.url}")
    if not rows:
        out.print("No money figures in this article.")
    for r in rows:
        tied = r["claim"] or ", ".join(r["candidates"]) or "no claim"
        _say(out, f"\n{r['figure']}: {r['outcome']} ({tied})\n  why: {r['why']}")
        for claim, why in r["not"].items():
            _say(out, f"  not {claim}: {why}")


@app.command()
def alerts(as_json: JsonOption = False) -> None:
    """The outbox: every alert, pending, sent or failed, with the reason for each failure."""
    from sqlmodel import select

    from monitor import store
    from monitor.settings import Settings
    from monitor.store import AlertRow

    engine = _engine(Settings())
    with store.session(engine) as s:
        found = s.exec(select(AlertRow).order_by(AlertRow.id)).all()  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = [
        {
            "id": a.id,
            "kind": a.kind,
            "watch": a.watch,
            "claim": a.claim,
            "reported": _outbox_reported(json.loads(a.payload)),
            "status": a.status,
            "attempts": a.attempts,
            "error": a.last_error,
            "ts": a.ts,
            "corroborations": a.corroborations,
            "created_at": a.created_at.isoformat(),
            "key": a.key,
        }
        for a in found
    ]
    if as_json:
        _print_json(rows)
        return
    table = _table(
        ("id", "kind", "claim", "reported", "status", "tries", "corroborated", "error"),
        (
            (
                r["id"],
                r["kind"],
                r["claim"] or "-",
                r["reported"] or "-",
                r["status"],
                r["attempts"],
                r["corroborations"],
                r["error"] or "",
            )
            for r in rows
        ),
    )
    out.print(table)
    shown = {r["status"] for r in rows}
    for status, meaning in _STATUS_MEANINGS.items():
        if status in shown:
            out.print(f"{status}: {meaning}")


_STATUS_MEANINGS = {
    "pending": "waiting to be sent; sent at the next delivery",
    "sending": "taken by a worker to send; if it crashed, looked up in Slack and settled",
    "sent": "delivered",
    "failed": "refused for good by Slack (see the error); will not be retried",
    "caught_up": "a change from a feed's first poll, posted inside its claim's catch-up message",
}


def _outbox_reported(payload: dict[str, Any]) -> str | None:
    """What an outbox row reports: its figure, or a catch-up's number of changes."""
    if "changes" in payload:
        n = len(payload["changes"])
        return f"{n} change{'' if n == 1 else 's'}"
    return (payload.get("reported") or {}).get("text")


@app.command()
def demo() -> None:
    """See it work in a minute: recorded news, a loopback feed server, a temporary database.

    Needs no network and no configuration; prints the alerts it would post to Slack.
    """
    from monitor.demo import run_demo

    with _friendly_errors():
        raise typer.Exit(run_demo(out))
