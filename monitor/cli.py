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

    from monitor.backfill import Asked
    from monitor.rules import Rules, Watch
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
        # The searches `google_news: auto` built, so a person sees what will be polled.
        for index, feed in enumerate(watch.feeds):
            if not feed.is_auto:
                continue
            for query, url in zip(
                feed.queries(watch), feed.urls(watch, rules.google_news_url), strict=True
            ):
                _say(out, f"    feeds[{index}] auto, {feed.lang}: {query}\n      {url}")


@rules_app.command("draft")
def rules_draft(
    source: Annotated[
        str, typer.Argument(help="An article: a text or HTML file, an http(s) URL, or - for stdin.")
    ],
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="The article's date, YYYY-MM-DD (default: the page's, else today)."
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="ko or en (default: both are read).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the watch here, not to stdout.")
    ] = None,
) -> None:
    """Draft a watch from one article: its money claims, their holders, words and searches.

    The draft passes `monitor rules check` as written; read its `# check` lines first.
    """
    from monitor.draft import draft, to_yaml
    from monitor.rules import load_watch

    if lang not in (None, "ko", "en"):
        _say(err, f'error: --lang "{lang}" is not ko or en')
        raise typer.Exit(2)
    with _friendly_errors():
        text, title, published = _article_source(source)
    when = _parse_date(on) if on else published or date.today()
    drafted = draft(text, published=when, title=title, lang=lang)
    written = to_yaml(drafted, source=source if source != "-" else "standard input")
    if output is None:
        sys.stdout.write(written)
    else:
        output.write_text(written, encoding="utf-8")
        with _friendly_errors():
            load_watch(output)  # what `rules check` will say
        _say(
            err,
            f"wrote {output}: {len(drafted.claims)} claims, {len(drafted.entities)} entities, "
            f"{len(drafted.searches)} searches; {len(drafted.noted)} figures noted, not claims",
        )


def _article_source(source: str) -> tuple[str, str | None, date | None]:
    """The text, headline and date of `source`: a URL (fetched with the daemon's fetcher
    and its limits), an HTML file, a text file, or standard input."""
    from monitor.draft import read_page
    from monitor.errors import ConfigError

    if source.startswith(("http://", "https://")):
        from monitor.fetch import Fetcher
        from monitor.settings import Settings

        with Fetcher.from_settings(Settings()) as fetcher:
            page = fetcher.get(source)
        read = read_page(page.body, page.url)
        return read.text, read.title, read.published
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror or exc}") from exc
    decoded = raw.decode("utf-8", errors="replace")
    if decoded.lstrip()[:1] == "<":
        read = read_page(raw)
        return read.text, read.title, read.published
    return decoded, None, None


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

    # The default day needs the bundled rates, read (0.07 s) only once a figure is not in USD.
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


def _watch(rules: Rules, slug: str, settings: Settings) -> Watch:
    """The watch `slug` of `rules`; else an error that lists the slugs, and exit 2."""
    found = next((w for w in rules.watches if w.watch == slug), None)
    if found is None:
        slugs = ", ".join(w.watch for w in rules.watches) or "none"
        _say(
            err,
            f'error: no watch "{slug}" in {settings.rules} (watches: {slugs}); '
            "give its `watch:` slug",
        )
        raise typer.Exit(2)
    return found


def _parse_date(text: str, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _say(err, f'error: {option} "{text}" is not a date; write it as YYYY-MM-DD')
        raise typer.Exit(2) from None


def _span(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"{low:,.0f}" if low == high else f"{low:,.0f} – {high:,.0f}"


@app.command()
def claims(as_json: JsonOption = False) -> None:
    """Every claim: its value on record, the known values, the latest report, the sources.

    The value on record is the rules' stated value, or a report a person accepted since
    (`monitor alerts accept`). Known values are the stated value, the rules' `also`
    values and every alerted value not dismissed: what a report is compared with
    (`--json` gives each as numbers).
    """
    from sqlalchemy import func
    from sqlmodel import select

    from monitor import store
    from monitor.decisions import NOT_KNOWN, OnRecord, accepted_values, decisions_of, on_record
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
                .where(
                    *where, ObservationRow.role == "value", ObservationRow.outcome != "dismissed"
                )
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
                if a.low is not None
                and a.high is not None
                and a.currency
                and a.as_of
                and a.decision not in NOT_KNOWN
            ]
            record = on_record(
                OnRecord(claim.value, claim.low, claim.high, claim.currency, claim.as_of),
                accepted_values(s, claim.watch, claim.id),
            )
            decided = decisions_of(s, [a.id for a in alerted if a.id is not None])
            decisions = sorted(
                (_decision_json(d) for ds in decided.values() for d in ds if d.action != "retry"),
                key=lambda d: d["at"],
            )
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
                    "on_record": {
                        "text": record.text,
                        "low": record.low,
                        "high": record.high,
                        "currency": record.currency,
                        "as_of": record.as_of.isoformat(),
                        "source": "rules" if record.by is None else "accepted",
                        "by": record.by,
                        "via": record.via,
                        "at": record.at.isoformat() if record.at else None,
                    },
                    "decisions": decisions,
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
        ("claim", "on record", "known values", "latest report", "sources"),
        (
            (
                f"{r['watch']}/{r['claim']}\n{r['title']}",
                _on_record_text(r["on_record"]),
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
    for r in rows:
        _print_decisions(f"{r['watch']}/{r['claim']}", r["decisions"])


def _on_record_text(held: dict[str, Any]) -> str:
    """A claim's value on record, and who accepted it when a person did."""
    if held["by"]:
        return f"{held['text']}\naccepted by {held['by']}, {held['at'][:10]}"
    return str(held["text"])


def _print_decisions(about: str, decisions: list[dict[str, Any]]) -> None:
    """Every decision on a claim's alerts, a line each: who, what, when, from where."""
    from monitor.decisions import DECIDED

    for d in decisions:
        _say(
            out,
            f"{about}: {d['value'] or 'a report'} {DECIDED.get(d['action'], d['action'])} "
            f"by {d['by']} ({d['via']}), {d['at'][:16].replace('T', ' ')} UTC",
        )


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
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Instead, write the claim's chart (as on its page) to this .svg file "
            "(or .png, with the `png` extra installed).",
        ),
    ] = None,
) -> None:
    """Every observation of a claim, oldest first, with its quote and source.

    `monitor explain URL` says why each figure of an article was or was not tied.
    """
    from sqlalchemy import and_, or_
    from sqlmodel import select

    from monitor import store
    from monitor.decisions import decisions_of
    from monitor.settings import Settings
    from monitor.store import ArticleRow, ObservationRow

    engine = _engine(Settings())
    if plot is not None:
        _plot(engine, claim, plot)
        return
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
        alert_ids = sorted({o.alert_id for o, _ in found if o.alert_id is not None})
        decided = {
            alert: [_decision_json(d) for d in ds if d.action != "retry"]
            for alert, ds in decisions_of(s, alert_ids).items()
        }
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
            "decisions": decided.get(o.alert_id or 0, []),
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
        # Lists (candidates, decisions) as JSON, which a script can read back.
        writer.writerows(
            {
                k: _csv_cell(printable(json.dumps(v) if isinstance(v, list) else v))
                if isinstance(v, (str, list))
                else v
                for k, v in r.items()
            }
            for r in rows
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
        seen = {json.dumps(d, sort_keys=True): d for r in rows for d in r["decisions"]}
        _print_decisions(claim, sorted(seen.values(), key=lambda d: d["at"]))


def _csv_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: a headline starting with `=`, `+`, `-` or
    `@` would otherwise run as a formula (OWASP's CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _plot(engine: Any, claim: str, path: Path) -> None:
    """`history --plot`: the claim page's chart, written as SVG, or PNG through CairoSVG."""
    from monitor import store
    from monitor.web import chart, read

    with store.session(engine) as s:
        found = read.claim_ids(s, claim)
        story = read.story(s, *found[0]) if len(found) == 1 else None
    if story is None:
        named = ", ".join(f"{w}/{c}" for w, c in found)
        _say(
            err,
            f'claim "{claim}" is in several watches ({named}): write it as watch/claim'
            if found
            else f'no claim "{claim}" (see `monitor claims` for the ids)',
        )
        raise typer.Exit(1)
    drawn = chart.draw(story)
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + drawn.svg
    if path.suffix.lower() == ".png":
        try:
            import cairosvg  # type: ignore[import-not-found,unused-ignore]
        except (ImportError, OSError) as exc:  # OSError: the cairo library is missing
            _say(
                err,
                f"cannot write PNG ({exc}): install the extra, pip install "
                "'funding-monitor[png]' (it needs the cairo library, Debian's libcairo2), "
                "or write an .svg file",
            )
            raise typer.Exit(2) from None
        cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(path))
    else:
        path.write_text(svg, encoding="utf-8")
    _say(
        out,
        f"{path}: {drawn.marks} reports of {story.watch}/{story.claim} in {drawn.currency}"
        + (f"; {drawn.no_rate} not drawn (no exchange rate)" if drawn.no_rate else ""),
    )


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
def backfill(
    watch: Annotated[str, typer.Argument(help="The watch's slug, as its rules file names it.")],
    since: Annotated[str, typer.Option("--since", help="The first day to fill, YYYY-MM-DD.")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="The first day left out, YYYY-MM-DD (default: tomorrow)."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", help="Post nothing: the changes found become known values, silently."
        ),
    ] = False,
    pause: Annotated[
        float,
        typer.Option("--pause", min=0.0, help="Seconds between two requests to Google News."),
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fill a watch's history from Google News searches restricted to [--since, --until).

    Asks each of the watch's google_news searches (or those `auto` builds) day range by day
    range, splitting a range that returns Google's 100-item maximum. Articles are stored by
    publication date and decided as a feed's backlog is: no alert per change, and at the
    end one catch-up message per claim, queued for the daemon to post (none with --quiet).
    Running it again over the same days adds nothing and posts nothing.
    """
    from monitor.backfill import backfill as fill
    from monitor.fetch import Fetcher
    from monitor.observe import sync_claims
    from monitor.rules import load_rules
    from monitor.settings import Settings

    settings = Settings()
    first = _parse_date(since, "--since")
    end = _parse_date(until, "--until") if until else datetime.now(UTC).date() + timedelta(days=1)
    with _friendly_errors():
        rules = load_rules(settings.rules, google_news_url=settings.google_news_url)
    _watch(rules, watch, settings)
    engine = _engine(settings)
    bar = out.is_terminal and not as_json

    def plain(asked: Asked) -> None:
        split = ", split in two" if asked.split else ""
        _say(err, f"{asked.start} to {asked.end}: {asked.items} items{split}  {asked.url}")

    with _friendly_errors(), Fetcher.from_settings(settings) as fetcher, _Bar(bar) as progress:
        sync_claims(engine, rules)
        done = fill(
            engine,
            fetcher,
            rules.watch(watch),
            first,
            end,
            google_news_url=settings.google_news_url,
            channel=settings.slack_channel,
            quiet=quiet,
            pause=pause,
            full_text_budget=settings.full_text_budget,
            progress=progress.advance if bar else plain,
        )
    summary = {
        "watch": watch,
        "since": first.isoformat(),
        "until": end.isoformat(),
        "searches": done.searches,
        "windows": done.windows,
        "split": done.split,
        "capped": [{"search": url, "day": day.isoformat()} for url, day in done.capped],
        "items": done.items,
        "in_range": done.in_range,
        "articles_stored": done.stored.articles,
        "figures_tied": done.stored.figures,
        "changes": done.changes,
        "catch_up_messages": done.messages,
        "error": done.error,
    }
    if as_json:
        _print_json(summary)
    else:
        _print_backfill(summary, quiet)
    if done.error:
        raise typer.Exit(1)


class _Bar:
    """A progress bar of the windows asked, on a terminal; does nothing when `shown` is false."""

    def __init__(self, shown: bool) -> None:
        from rich.progress import Progress

        self._progress = Progress(console=out, transient=True) if shown else None
        self._task = self._progress.add_task("Google News", total=None) if self._progress else None

    def advance(self, asked: Asked) -> None:
        if self._progress is not None and self._task is not None:
            done = self._progress.tasks[0].completed + 1
            self._progress.update(
                self._task,
                completed=done,
                total=done + asked.left,
                description=f"{asked.start} to {asked.end}",
            )

    def __enter__(self) -> _Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _print_backfill(summary: dict[str, Any], quiet: bool) -> None:
    changes = ", ".join(f"{claim} {n}" for claim, n in summary["changes"].items()) or "none"
    if quiet:
        posted = "nothing queued to post (--quiet)"
    else:
        posted = (
            f"{summary['catch_up_messages']} catch-up messages queued; the daemon posts them "
            "(or `monitor run --once`)"
        )
    lines = [
        f"{summary['watch']}: {summary['since']} to {summary['until']} (the last day left out), "
        f"{len(summary['searches'])} searches",
        f"  windows asked: {summary['windows']}, {summary['split']} split in two",
        f"  items: {summary['items']} returned, {summary['in_range']} distinct articles in range, "
        f"{summary['articles_stored']} new articles stored",
        f"  figures tied to a claim: {summary['figures_tied']}",
        f"  changes recorded: {changes}",
        f"  {posted}",
    ]
    for capped in summary["capped"]:
        lines.append(
            f"  warning: {capped['day']} still returned 100 items, Google's maximum, in one day; "
            f"some of that day may be missing: {capped['search']}"
        )
    _say(out, "\n".join(lines))
    if summary["error"]:
        _say(
            err,
            f"stopped early: {summary['error']}. What was fetched before is stored; run the "
            "same command again later to fill the rest.",
        )


alerts_app = typer.Typer(
    help="The outbox, and what to do about an alert: accept, dismiss or retry it.",
    invoke_without_command=True,
)
app.add_typer(alerts_app, name="alerts")
AlertArgument = Annotated[
    str, typer.Argument(help="An alert's id or key, as `monitor alerts` lists them.")
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who decides (default: your user name at this host)."),
]


@alerts_app.callback()
def alerts(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The outbox: every alert with its outlet, old and new value, link, status and decision."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlmodel import select

    from monitor import store
    from monitor.decisions import decisions_of
    from monitor.settings import Settings
    from monitor.store import AlertRow

    engine = _engine(Settings())
    with store.session(engine) as s:
        found = s.exec(select(AlertRow).order_by(AlertRow.id)).all()  # type: ignore[arg-type]
        decided = decisions_of(s, [a.id for a in found if a.id is not None])
    rows: list[dict[str, Any]] = []
    for a in found:
        p = json.loads(a.payload)
        rows.append(
            {
                "id": a.id,
                "kind": a.kind,
                "watch": a.watch,
                "claim": a.claim,
                "publisher": p.get("publisher"),
                "was": (p.get("previous") or {}).get("text") if a.kind == "change" else None,
                "reported": _outbox_reported(p),
                "url": p.get("article_url"),
                "status": a.status,
                "decision": a.decision,
                "decisions": [_decision_json(d) for d in decided.get(a.id or 0, [])],
                "attempts": a.attempts,
                "error": a.last_error,
                "ts": a.ts,
                "corroborations": a.corroborations,
                "created_at": a.created_at.isoformat(),
                "key": a.key,
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = _table(("id", "claim", "report", "status", "decision"), map(_alert_row, rows))
    out.print(table)
    shown = {r["status"] for r in rows}
    for status, meaning in _STATUS_MEANINGS.items():
        if status in shown:
            out.print(f"{status}: {meaning}")


def _alert_row(r: dict[str, Any]) -> tuple[str, ...]:
    """One alert as `monitor alerts` shows it: what it reports, its status, its decision."""
    report = r["reported"] or "-"
    if r["was"]:
        report = f"{r['was']} → {report}"
    if r["publisher"]:
        report += f"\n{r['publisher']}"
    if r["url"]:
        report += f"\n{r['url']}"
    status = r["status"] + (f" ({r['attempts']} tries)" if r["attempts"] > 1 else "")
    if r["error"]:
        status += f"\n{r['error']}"
    last = r["decisions"][-1] if r["decisions"] else None
    decision = f"{last['action']}\n{last['by']}\n{last['at'][:16]}" if last else "-"
    kind = f"{r['claim'] or r['watch']}\n{r['kind'].replace('_', ' ')}"
    return (str(r["id"]), kind, report, status, decision)


_STATUS_MEANINGS = {
    "pending": "waiting to be sent; sent at the daemon's next delivery",
    "sending": (
        "taken by a worker to send; if that worker died, the message is looked up in "
        "Slack and settled, never posted twice"
    ),
    "sent": "delivered",
    "failed": (
        "refused for good by Slack (see the error); fix the cause, then "
        "`monitor alerts retry ID` (or `--failed` for all)"
    ),
    "caught_up": "a change from a feed's first poll, posted inside its claim's catch-up message",
    "recorded": "recorded by `monitor backfill --quiet`: a known value, never posted",
    "dismissed": "dismissed by a person before it was sent; it will not be sent",
    "summarized": "found by a poll beyond MONITOR_MAX_ALERTS_PER_POLL: recorded and known, "
    "counted in that poll's summary message, never posted on its own",
}


def _decide(ref: str, action: str, by: str | None) -> None:
    from monitor.decisions import decide, local_user
    from monitor.settings import Settings

    engine = _engine(Settings())
    with _friendly_errors():
        done = decide(engine, ref, action, by=by or local_user(), via="cli")  # type: ignore[arg-type]
    _say(out, done.said if done.fresh else f"nothing to do: {done.said}")


@alerts_app.command("accept")
def alerts_accept(alert: AlertArgument, by: ByOption = None) -> None:
    """Make a change's reported value the claim's value on record."""
    _decide(alert, "accept", by)


@alerts_app.command("dismiss")
def alerts_dismiss(alert: AlertArgument, by: ByOption = None) -> None:
    """Not a change: the value stops being known, and its later reports never alert."""
    _decide(alert, "dismiss", by)


@alerts_app.command("retry")
def alerts_retry(
    alert: Annotated[
        str | None, typer.Argument(help="A failed alert's id or key.", show_default=False)
    ] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed alert.")] = False,
    by: ByOption = None,
) -> None:
    """Send a failed alert again (after fixing its cause, such as a misnamed channel)."""
    from monitor.decisions import local_user, retry_failed
    from monitor.settings import Settings

    if (alert is None) == (not failed):
        _say(err, "give one alert, or --failed for every failed alert")
        raise typer.Exit(2)
    if alert is not None:
        _decide(alert, "retry", by)
        return
    engine = _engine(Settings())
    with _friendly_errors():
        done = retry_failed(engine, by=by or local_user(), via="cli")
    for d in done:
        _say(out, d.said)
    if not done:
        _say(out, "no failed alerts")


def _decision_json(d: Any) -> dict[str, Any]:
    """A decision as `alerts`, `claims` and `history` print it."""
    return {"action": d.action, "by": d.by, "via": d.via, "at": d.at.isoformat(), "value": d.text}


def _outbox_reported(payload: dict[str, Any]) -> str | None:
    """What an outbox row reports: its figure, or a catch-up's or summary's number of changes."""
    if "more_changes" in payload:
        return f"{payload['more_changes']} more changes"
    if "changes" in payload:
        n = len(payload["changes"])
        return f"{n} change{'' if n == 1 else 's'}"
    return (payload.get("reported") or {}).get("text")


@app.command()
def replay(
    watch: Annotated[
        str | None, typer.Argument(help="A watch slug (default: every watch).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only articles published since, YYYY-MM-DD.")
    ] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Write the replayed observations and known values."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-read stored articles under the current rules and print what would change.

    Per claim: observations gained, lost or decided otherwise, and the alerts that would or
    would not have been raised. `--apply` writes them; nothing is ever posted.
    """
    from monitor import replay as replaying
    from monitor.rules import load_rules
    from monitor.settings import Settings

    settings = Settings()
    engine = _engine(settings)
    with _friendly_errors():
        rules = load_rules(settings.rules)
    watches = [_watch(rules, watch, settings)] if watch else rules.watches
    start = (
        datetime.combine(_parse_date(since, "--since"), datetime.min.time(), UTC) if since else None
    )
    report = []
    for w in watches:
        done = replaying.replay(engine, rules, w, since=start)
        written = replaying.apply(engine, done) if apply and not done.unchanged else 0
        report.append((done, written))
    if as_json:
        _print_json(
            [
                {
                    "watch": done.watch,
                    "articles": done.articles,
                    "applied": apply,
                    "observations_written": written,
                    "claims": {
                        claim: {
                            "gained": [_seen_json(s) for s in c.gained],
                            "lost": [_seen_json(s) for s in c.lost],
                            "changed": [
                                {"before": _seen_json(b), "now": _seen_json(n)}
                                for b, n in c.changed
                            ],
                            "would_alert": c.would_alert,
                            "would_not_alert": c.would_not,
                        }
                        for claim, c in done.claims.items()
                    },
                }
                for done, written in report
            ]
        )
        return
    for done, written in report:
        head = f"{done.watch}: {done.articles} stored articles replayed under the current rules"
        _say(out, head)
        if done.unchanged:
            _say(out, "  nothing would change")
        for claim, c in done.claims.items():
            _say(out, f"  {claim}")
            lines = [
                *(f"+ {_seen(s)}" for s in c.gained),
                *(f"- {_seen(s)}" for s in c.lost),
                *(f"~ {_seen(b)} -> {n.outcome} {n.claim or n.candidates}" for b, n in c.changed),
                *(f"would alert: {k}" for k in c.would_alert),
                *(f"would not have alerted: {k}" for k in c.would_not),
            ]
            for line in lines:
                _say(out, f"    {line}")
        if apply:
            _say(out, f"  applied: {written} observations written; nothing posted")
    if not apply and any(not done.unchanged for done, _ in report):
        _say(out, "run again with --apply to write this")


def _seen_json(seen: Any) -> dict[str, Any]:
    """A replayed observation as JSON."""
    return {k: getattr(seen, k) for k in seen.__slots__}


def _seen(s: Any) -> str:
    return f"{s.figure} ({s.outcome}) {s.publisher}, {s.published[:10]}: {s.url}"


@app.command()
def demo(
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Then serve the pages (charts of each claim) until Ctrl-C."),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="The loopback port of --serve (0: any free one).")
    ] = 9108,
) -> None:
    """See it work in a minute: recorded news, a loopback feed server, a temporary database.

    Needs no network and no configuration; prints the alerts it would post to Slack.
    """
    from monitor.demo import run_demo

    with _friendly_errors():
        raise typer.Exit(run_demo(out, port if serve else None))


@app.command()
def digest(
    watch: Annotated[str, typer.Argument(help="A watch slug (see `monitor rules check`).")],
    post: Annotated[
        bool, typer.Option("--post", help="Queue it for Slack, to go out at the next delivery.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A watch's digest from its last daily digest (or the last 24 hours) until now.

    Per claim: its changes, corroborations and decisions; then the feeds that degraded,
    recovered or are failing. The daily digests of a watch with `digest:` in its rules
    are posted by `monitor run`; this one does not move their periods.
    """
    from monitor.alerts import render
    from monitor.digest import post as queue_digest
    from monitor.digest import preview
    from monitor.notify.console import ConsoleNotifier
    from monitor.rules import load_rules
    from monitor.settings import Settings

    settings = Settings()
    with _friendly_errors():
        rules = load_rules(settings.rules)
    found = _watch(rules, watch, settings)
    engine = _engine(settings)
    payload = preview(engine, found, datetime.now(UTC), google_news_url=rules.google_news_url)
    if as_json:
        _print_json(payload)
    else:
        message = render(kind="digest", key=payload["key"], payload=payload, channel=None)
        ConsoleNotifier(sys.stdout).send(message)
    if post:
        if queue_digest(engine, payload, found, settings.slack_channel):
            _say(
                err,
                f"queued as {payload['key']}: it goes out at the next delivery of `monitor run` "
                "(or `monitor run --once`)",
            )
        else:
            _say(err, f"{payload['key']} was queued already")
