"""The daemon's pages as HTML: plain data in, a document out. Pure.

Everything that came from a feed or a person (titles, quotes, outlets, URLs, names) is
escaped with `html.escape`; only http(s) URLs become links. The pages need no script and
load nothing: the style is inline (allowed by its hash, `monitor.web.routes`), fonts are named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from html import escape
from urllib.parse import quote

from monitor import __version__
from monitor.alerts import format_money
from monitor.decisions import OnRecord
from monitor.web.chart import FONTS, Drawn
from monitor.web.story import (
    ClaimSummary,
    FeedHealth,
    OutboxEntry,
    Report,
    Story,
    converter,
    is_web,
)

STYLE = (
    f"body{{font-family:{FONTS};margin:0;color:#222;background:#fafafa;line-height:1.45;"
    "font-size:15px}"
    "header{background:#263238;padding:.6em 1em}header a{color:#fff;margin-right:1.2em;"
    "text-decoration:none;font-weight:600}header a.here{text-decoration:underline}"
    "main{padding:.5em 1em 2em;max-width:1200px}h1{font-size:1.4em;margin:.6em 0 .2em}"
    "h2{font-size:1.15em;margin:1.4em 0 .4em}.sub{color:#555;margin:.2em 0}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;background:#fff;font-size:.93em}"
    "th,td{border:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}"
    "th{background:#eceff1}td.n{text-align:right;white-space:nowrap}"
    ".quote{max-width:36em}.why{color:#555;font-size:.9em}"
    ".chart svg{display:block;width:100%;height:auto;min-width:640px;border:1px solid #ddd}"
    ".pager a,.pager span{margin-right:1em}.bad{color:#b71c1c}.muted{color:#777}"
    "footer{color:#777;font-size:.85em;padding:1em}"
    "@media (max-width:600px){main{padding:.5em}body{font-size:14px}}"
)
PAGE_SIZE = 100  # rows of a table per page; a claim's chart still draws every report


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _link(url: str | None, text: str) -> str:
    """A link to `url` when it is http(s); otherwise the text alone (no javascript: links)."""
    if is_web(url):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(text)}</a>'
    return _e(text)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _money(low: float | None, high: float | None, currency: str) -> str:
    return "-" if low is None or high is None else format_money(low, high, currency)


def claim_path(watch: str, claim: str) -> str:
    return f"/claims/{quote(watch, safe='')}/{quote(claim, safe='')}"


def layout(title: str, body: str, here: str) -> str:
    nav = "".join(
        f'<a href="{path}"{" class=here" if path == here else ""}>{name}</a>'
        for path, name in (("/", "Claims"), ("/alerts", "Alerts"), ("/feeds", "Feeds"))
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)} · funding-monitor</title><style>{STYLE}</style></head>"
        f"<body><header><nav>{nav}</nav></header><main>{body}</main>"
        f"<footer>funding-monitor {_e(__version__)}: read-only pages of the monitor's "
        "database</footer></body></html>"
    )


def _on_record(rec: OnRecord) -> str:
    since = f"as of {rec.as_of}"
    if rec.by:
        return f"{_e(rec.text)} <span class=sub>({since}; accepted by {_e(rec.by)})</span>"
    return f"{_e(rec.text)} <span class=sub>({since}; the rules)</span>"


def index(summaries: list[ClaimSummary]) -> str:
    """Every watch and claim: value on record, latest report, sources, open alerts."""
    if not summaries:
        body = (
            "<h1>Claims</h1><p>No claims yet: write a watch in the rules and start the daemon.</p>"
        )
        return layout("Claims", body, "/")
    parts = ["<h1>Claims</h1>"]
    watch = None
    for c in summaries:
        if c.watch != watch:
            if watch is not None:
                parts.append("</tbody></table></div>")
            watch = c.watch
            parts.append(
                f"<h2>{_e(c.watch_title)} <span class=sub>({_e(c.watch)})</span></h2>"
                "<div class=scroll><table><thead><tr><th>claim</th><th>value on record</th>"
                "<th>latest report</th><th>sources</th><th>open alerts</th></tr></thead><tbody>"
            )
        latest = (
            f"{_e(c.latest.text)}<br><span class=sub>{_e(c.latest.publisher)}, "
            f"{c.latest.published.date()}</span>"
            if c.latest
            else "<span class=muted>none yet</span>"
        )
        alerts = f'<a href="/alerts">{c.open_alerts}</a>' if c.open_alerts else "0"
        parts.append(
            f'<tr><td><a href="{claim_path(c.watch, c.claim)}">{_e(c.title)}</a>'
            f"<br><span class=sub>{_e(c.claim)}</span></td><td>{_on_record(c.record)}</td>"
            f"<td>{latest}</td><td class=n>{c.sources} <span class=sub>({c.reports} "
            f"reports)</span></td><td class=n>{alerts}</td></tr>"
        )
    parts.append("</tbody></table></div>")
    return layout("Claims", "".join(parts), "/")


def claim(story: Story, drawn: Drawn, page: int) -> str:
    """A claim's chart of every report, then its reports, newest first, a page at a time."""
    path = claim_path(story.watch, story.claim)
    record = story.records[-1]
    outlets = len({r.publisher for r in story.reports})
    currencies = [story.currency] + (["USD"] if story.currency != "USD" else [])
    switch = " · ".join(
        (f"<strong>{_e(c)}</strong>" if c == drawn.currency else f'<a href="{path}?in={c}">{c}</a>')
        + (" (the claim's)" if c == story.currency else "")
        for c in currencies
    )
    counts = Counter(r.outcome for r in story.reports)
    by_outcome = ", ".join(f"{n:,} {o}" for o, n in counts.most_common())
    caption = f"{drawn.marks:,} reports drawn, one mark each"
    if drawn.converted:
        caption += f"; {drawn.converted:,} hollow: reported in another currency, converted"
    if drawn.no_rate:
        caption += (
            f"; <span class=bad>{drawn.no_rate:,} not drawn: no exchange rate from their "
            f"currency into {_e(drawn.currency)}</span> (listed below)"
        )
    parts = [
        f"<h1>{_e(story.title)}</h1>",
        f"<p class=sub>{_e(story.watch)} / {_e(story.claim)}</p>",
        f"<p>Value on record: {_on_record(record)}. {len(story.reports):,} reports from "
        f"{outlets:,} outlets{': ' + _e(by_outcome) if by_outcome else ''}.</p>",
        f"<p>Chart in: {switch}</p>",
        f'<div class="chart scroll">{drawn.svg}</div>',
        f"<p class=sub>{caption}. Point at a mark for its report; click it for the article.</p>",
    ]
    newest = story.reports[::-1]
    pages = max(1, -(-len(newest) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = newest[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    parts.append("<h2>Reports, newest first</h2>")
    if not shown:
        parts.append("<p>No reports yet.</p>")
        return layout(story.title, "".join(parts), path)
    suffix = f"&in={drawn.currency}" if drawn.currency != story.currency else ""
    pager = _pager(f"{path}?", suffix, page, pages, len(newest))
    convert = converter(story.currency)
    rows = "".join(_report_row(r, story.currency, convert) for r in shown)
    usd = "<th>in USD</th>" if story.currency != "USD" else ""
    parts.append(
        f"{pager}<div class=scroll><table><thead><tr><th>published</th><th>outlet</th>"
        f"<th>figure as written</th><th>in {_e(story.currency)}</th>{usd}"
        f"<th>outcome</th><th>quote</th></tr></thead><tbody>{rows}</tbody></table></div>{pager}"
    )
    return layout(story.title, "".join(parts), path)


def _report_row(
    r: Report, currency: str, convert: Callable[[float, str, date], float | None]
) -> str:
    day = r.published.date()
    own = (convert(r.low, r.currency, day), convert(r.high, r.currency, day))
    outcome = _e(r.outcome) + (f"<br><span class=sub>{_e(r.decision)}</span>" if r.decision else "")
    why = f"<div class=why>why: {_e(r.why)}</div>" if r.why else ""
    usd = f"<td class=n>{_money(r.usd_low, r.usd_high, 'USD')}</td>" if currency != "USD" else ""
    return (
        f"<tr><td class=n>{_when(r.published)}</td><td>{_e(r.publisher)}</td>"
        f"<td>{_link(r.url, r.text)}<div class=why>{_e(r.title)}</div></td>"
        f"<td class=n>{_money(*own, currency)}</td>{usd}<td>{outcome}</td>"
        f"<td class=quote>{_e(r.quote)}{why}</td></tr>"
    )


def _pager(base: str, suffix: str, page: int, pages: int, total: int) -> str:
    first = (page - 1) * PAGE_SIZE + 1
    last = min(page * PAGE_SIZE, total)
    links = [f"<span>{first:,}–{last:,} of {total:,}</span>"]
    if page > 1:
        links.append(f'<a href="{base}page={page - 1}{suffix}">← newer</a>')
    if page < pages:
        links.append(f'<a href="{base}page={page + 1}{suffix}">older →</a>')
    return f"<p class=pager>{''.join(links)}</p>"


_STATUS = {
    "pending": "waiting to be sent",
    "sending": "being sent",
    "sent": "delivered",
    "failed": "refused by Slack: fix the cause, then `monitor alerts retry ID`",
    "caught_up": "posted inside its claim's catch-up message",
    "dismissed": "dismissed before it was sent; not sent",
}


def alerts(total: int, entries: Iterable[OutboxEntry], page: int) -> str:
    """The outbox, newest first: each alert's report, status and decisions."""
    pages = max(1, -(-total // PAGE_SIZE))
    rows = []
    for a in entries:
        report = _e(a.reported or "-")
        if a.was:
            report = f"{_e(a.was)} → {report}"
        if a.publisher or a.url:
            report += f"<br>{_link(a.url, a.publisher or a.url or '')}"
        status = f"{_e(a.status)}<div class=why>{_e(_STATUS.get(a.status, ''))}</div>"
        if a.error:
            status += f"<div class=bad>{_e(a.error)} ({a.attempts} tries)</div>"
        decisions = "<br>".join(
            f"{_e(d.action)} by {_e(d.by)} ({_e(d.via)}), {_when(d.at)}" for d in a.decisions
        )
        about = (
            f'<a href="{claim_path(a.watch, a.claim)}">{_e(a.claim)}</a>'
            if a.claim
            else _e(a.watch)
        )
        rows.append(
            f"<tr><td class=n>{a.id}</td><td>{about}<br><span class=sub>"
            f"{_e(a.kind.replace('_', ' '))}</span></td><td>{report}</td><td>{status}</td>"
            f"<td>{decisions or '-'}</td><td class=n>{_when(a.created_at)}</td></tr>"
        )
    if not rows:
        return layout("Alerts", "<h1>Alerts</h1><p>No alerts yet.</p>", "/alerts")
    pager = _pager("/alerts?", "", min(max(page, 1), pages), pages, total)
    body = (
        f"<h1>Alerts</h1><p class=sub>The outbox, newest first; decide with `monitor alerts "
        f"accept|dismiss ID` or Slack's buttons.</p>{pager}<div class=scroll><table><thead><tr>"
        "<th>id</th><th>claim</th><th>report</th><th>status</th><th>decisions</th>"
        f"<th>created</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>{pager}"
    )
    return layout("Alerts", body, "/alerts")


def feeds(rows: list[FeedHealth]) -> str:
    """Every feed of the rules: last poll, HTTP status, result, failures, next poll."""
    if not rows:
        return layout("Feeds", "<h1>Feeds</h1><p>The rules list no feeds.</p>", "/feeds")
    cells = []
    for f in rows:
        result = _e(f.result)
        if f.error:
            result += f"<div class=bad>{_e(f.error)}</div>"
        if f.warning:
            result += f"<div class=why>{_e(f.warning)}</div>"
        failures = f"<span class=bad>{f.failures}</span>" if f.failures else "0"
        cells.append(
            f"<tr><td>{_link(f.url, f.url)}<br><span class=sub>{_e(f.watch)}</span></td>"
            f"<td class=n>{_when(f.last_poll)}</td><td class=n>{f.status or '-'}</td>"
            f"<td>{result}</td><td class=n>{failures}</td>"
            f"<td class=n>{_when(f.next_poll) if f.next_poll else 'at start'}</td></tr>"
        )
    body = (
        "<h1>Feeds</h1><div class=scroll><table><thead><tr><th>feed</th><th>last poll</th>"
        "<th>HTTP</th><th>result</th><th>failures in a row</th><th>next poll</th></tr></thead>"
        f"<tbody>{''.join(cells)}</tbody></table></div>"
    )
    return layout("Feeds", body, "/feeds")


def problem(title: str, message: str) -> str:
    """A page that says what went wrong and where to go instead."""
    return layout(title, f"<h1>{_e(title)}</h1><p>{_e(message)}</p>", "")
