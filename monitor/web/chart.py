"""A claim's story as an SVG chart: every report by publication date, the value on record as
a line. Pure: a `Story` in, a string out; the page, `monitor history --plot` and the bench
draw the same chart.

Every report is one `<path class="m ...">` (its shape and colour say its outcome, a hollow
one was reported in another currency and converted, a vertical bar spans a range), inside a
link to its article; nothing is aggregated, so 10,000 reports are 10,000 marks. The chart
needs no script and no external resource: its style is inside it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape

from monitor.alerts import format_money
from monitor.decisions import OnRecord
from monitor.web.story import (
    CHANGE,
    CORROBORATION,
    DISMISSED,
    UNCHANGED,
    Report,
    Story,
    converter,
    is_web,
)

WIDTH, HEIGHT = 960, 420
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 24, 72, 44
_R = 4.5  # a mark's radius
# Values spread over more than this ratio get a log scale: a report read in the wrong unit
# (9천조 for 9조) must not flatten every other report into one line.
_LOG_ABOVE = 20.0
# Shapes by outcome, so that the chart reads without colour too.
SHAPES = {CHANGE: "diamond", CORROBORATION: "triangle", UNCHANGED: "circle", DISMISSED: "cross"}
OTHER = "other"  # context, mixup, vague: drawn as a small square
LABELS = {
    CHANGE: "change (alerted)",
    CORROBORATION: "corroboration",
    UNCHANGED: "unchanged",
    DISMISSED: "dismissed",
    OTHER: "other (context, vague)",
}
FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK KR", '
    '"Noto Sans KR", NanumGothic, "Apple SD Gothic Neo", "Malgun Gothic", sans-serif'
)
# Fixed text, so that a page's Content-Security-Policy can allow it by its hash.
STYLE = (
    f"svg.story{{font-family:{FONTS};font-size:12px;background:#fff}}"
    ".story text{fill:#222}.story .ax{stroke:#888;stroke-width:1}"
    ".story .grid{stroke:#e4e4e4;stroke-width:1}"
    ".story .rec{stroke:#6a1b9a;stroke-width:2;fill:none}"
    ".story .band{fill:#6a1b9a;fill-opacity:.12;stroke:none}"
    ".story .m,.story .k{stroke-width:1.5}"
    ".story .o-change{fill:#c62828;stroke:#c62828}"
    ".story .o-corroboration{fill:#2e7d32;stroke:#2e7d32}"
    ".story .o-unchanged{fill:#1565c0;stroke:#1565c0}"
    ".story .o-dismissed{fill:none;stroke:#616161;stroke-width:2}"
    ".story .o-other{fill:#9e9e9e;stroke:#9e9e9e}"
    ".story .cv{fill:#fff}"
    ".story .note{fill:#555;font-size:11px}"
)


@dataclass(frozen=True, slots=True)
class Drawn:
    """What a chart shows, for the page's caption: how many marks, how many left out and why."""

    svg: str
    marks: int
    converted: int
    no_rate: int  # reports with no rate into the chart's currency: listed, not drawn
    currency: str
    log: bool


def draw(story: Story, currency: str | None = None) -> Drawn:
    """The chart of `story` in `currency` (default: the claim's own), one mark per report."""
    currency = currency or story.currency
    convert = converter(currency)
    points: list[tuple[Report, date, float, float]] = []
    no_rate = 0
    for r in story.reports:
        day = _day(r.published)
        low: float | None
        high: float | None
        if currency == "USD" and r.usd_low is not None and r.usd_high is not None:
            low, high = r.usd_low, r.usd_high  # as stored: at the publication day's rate
        else:
            low, high = convert(r.low, r.currency, day), convert(r.high, r.currency, day)
        if low is None or high is None:
            no_rate += 1
            continue
        points.append((r, day, low, high))
    records = [
        (rec, lo, hi)
        for rec in story.records
        if (lo := convert(rec.low, rec.currency, rec.as_of)) is not None
        and (hi := convert(rec.high, rec.currency, rec.as_of)) is not None
    ]
    values = [v for *_, lo, hi in points + records for v in (lo, hi) if v > 0]  # type: ignore[operator]
    days = [day for _, day, _, _ in points] + [rec.as_of for rec, _, _ in records]
    y = _YScale(values)
    x = _XScale(days)
    out = [
        f'<svg class="story" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{_e(story.title)}: {len(points)} reports over time, in {_e(currency)}">',
        f"<style>{STYLE}</style>",
        f"<title>{_e(story.title)}</title>",
    ]
    out += _axes(x, y, currency, own=currency == story.currency)
    out += _record_lines(records, x, y, currency)
    converted = 0
    for r, day, low, high in points:
        hollow = r.currency != currency
        converted += hollow
        out.append(_mark(r, day, x(day), y(low), y(high), currency if hollow else None, low, high))
    if not points:
        out.append(
            f'<text x="{(_LEFT + WIDTH - _RIGHT) / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            "No reports of this claim yet</text>"
        )
    out += _legend(Counter(_kind(r.outcome) for r, *_ in points), converted)
    out.append("</svg>")
    return Drawn("".join(out), len(points), converted, no_rate, currency, y.log)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _day(moment: datetime) -> date:
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def _kind(outcome: str) -> str:
    return outcome if outcome in SHAPES else OTHER


class _XScale:
    """Publication day -> x, with a few days' margin either side."""

    def __init__(self, days: list[date]) -> None:
        first = min(days, default=date.today())
        last = max(days, default=first)
        pad = max(2, (last - first).days // 30)
        self.first, self.last = first - timedelta(days=pad), last + timedelta(days=pad)
        self.span = (self.last - self.first).days
        self.left, self.right = _LEFT, WIDTH - _RIGHT

    def __call__(self, day: date) -> float:
        return self.left + (self.right - self.left) * (day - self.first).days / self.span

    def ticks(self) -> list[tuple[date, str]]:
        """Month starts at the smallest step that gives at most 8, or days for short spans."""
        if self.span <= 60:
            step = next(s for s in (1, 2, 7, 14, 30) if self.span / s <= 8)
            start = self.first + timedelta(days=1)
            return [
                (d, d.isoformat())
                for i in range(0, self.span, step)
                if (d := start + timedelta(days=i)) < self.last
            ]
        months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120) if months / s <= 8)
        found: list[tuple[date, str]] = []
        index = self.first.year * 12 + self.first.month  # the month after `first`
        while True:
            year, month = divmod(index, 12)
            d = date(year, month + 1, 1)
            if d > self.last:
                return found
            if (year * 12 + month) % step == 0:
                found.append((d, str(year) if step >= 12 else d.isoformat()[:7]))
            index += 1


class _YScale:
    """Value -> y: linear, or log10 when the values spread over more than `_LOG_ABOVE`."""

    def __init__(self, values: list[float]) -> None:
        low, high = min(values, default=1.0), max(values, default=1.0)
        self.log = high / low > _LOG_ABOVE
        if self.log:
            self.low, self.high = math.log10(low) - 0.1, math.log10(high) + 0.1
        else:
            margin = (high - low) * 0.1 or high * 0.1 or 1.0
            self.low, self.high = max(0.0, low - margin), high + margin
        self.top, self.bottom = _TOP, HEIGHT - _BOTTOM

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log and value > 0 else value
        if self.log and value <= 0:
            v = self.low
        return self.bottom - (self.bottom - self.top) * (v - self.low) / (self.high - self.low)

    def ticks(self) -> list[float]:
        if self.log:
            decades = range(math.floor(self.low), math.ceil(self.high) + 1)
            steps = (1, 2, 5) if self.high - self.low < 3 else (1,)
            found = [s * 10.0**d for d in decades for s in steps]
            return [v for v in found if self.low <= math.log10(v) <= self.high]
        raw = (self.high - self.low) / 5
        size = 10 ** math.floor(math.log10(raw))
        step = next(m * size for m in (1, 2, 2.5, 5, 10) if m * size >= raw)
        first = math.ceil(self.low / step) * step
        return [first + i * step for i in range(int((self.high - first) / step) + 1)]


def _axes(x: _XScale, y: _YScale, currency: str, *, own: bool) -> list[str]:
    out = []
    for value in y.ticks():
        ty = y(value)
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{_e(format_money(value, value, currency, short=True))}</text>"
        )
    for day, label in x.ticks():
        tx = x(day)
        out.append(
            f'<line class="ax" x1="{tx:.1f}" x2="{tx:.1f}" y1="{HEIGHT - _BOTTOM}" '
            f'y2="{HEIGHT - _BOTTOM + 5}"/>'
            f'<text x="{tx:.1f}" y="{HEIGHT - _BOTTOM + 18}" text-anchor="middle">{label}</text>'
        )
    which = "the claim's currency" if own else "converted at each report's day's rate"
    scale = ", log scale" if y.log else ""
    out.append(
        f'<line class="ax" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{HEIGHT - _BOTTOM}"/>'
        f'<line class="ax" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{HEIGHT - _BOTTOM}" '
        f'y2="{HEIGHT - _BOTTOM}"/>'
        f'<text class="note" x="{_LEFT}" y="{_TOP - 8}">'
        f"vertical: {_e(currency)} ({which}{scale})</text>"
        f'<text class="note" x="{WIDTH - _RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        "horizontal: publication date (UTC)</text>"
    )
    return out


def _record_lines(
    records: list[tuple[OnRecord, float, float]], x: _XScale, y: _YScale, currency: str
) -> list[str]:
    """The value on record as a step line from each value's `as_of` to the next's; a range
    as a shaded band between two lines."""
    out = []
    ordered = sorted(records, key=lambda r: r[0].as_of)
    for i, (rec, low, high) in enumerate(ordered):
        x1 = x(rec.as_of)
        x2 = x(ordered[i + 1][0].as_of) if i + 1 < len(ordered) else x.right
        top, bottom = y(high), y(low)
        if high != low:
            out.append(
                f'<rect class="band" x="{x1:.1f}" y="{top:.1f}" width="{x2 - x1:.1f}" '
                f'height="{bottom - top:.1f}"/>'
            )
        lines = f"M{x1:.1f},{top:.1f}H{x2:.1f}" + (
            f"M{x1:.1f},{bottom:.1f}H{x2:.1f}" if high != low else ""
        )
        who = f", accepted by {rec.by}" if rec.by else " (the rules)"
        shown = format_money(low, high, currency)
        out.append(
            f'<path class="rec" d="{lines}"><title>value on record from {rec.as_of}: '
            f"{_e(rec.text)}{_e(' = ' + shown if rec.currency != currency else '')}"
            f"{_e(who)}</title></path>"
        )
    return out


def _mark(
    r: Report,
    day: date,
    mx: float,
    y_low: float,
    y_high: float,
    converted_to: str | None,
    low: float,
    high: float,
) -> str:
    """One report: its shape at the middle of its range, a bar over the range, in a link."""
    kind = _kind(r.outcome)
    d = f"M{mx:.1f},{y_high:.1f}V{y_low:.1f}" if y_low - y_high > 2 * _R else ""
    dx, dy, rest = _SHAPES[SHAPES.get(kind, "square")]
    d += f"M{mx + dx:.1f},{(y_low + y_high) / 2 + dy:.1f}{rest}"
    shown = r.text
    if converted_to:
        shown += f" ≈ {format_money(low, high, converted_to)}"
    decided = f", {r.decision}" if r.decision else ""
    tip = f"{r.publisher}, {day}: {shown} ({r.outcome}{decided})\n{r.title}"
    mark = (
        f'<path class="m o-{kind}{" cv" if converted_to else ""}" d="{d}">'
        f"<title>{_e(tip)}</title></path>"
    )
    if is_web(r.url):
        return f'<a href="{_e(r.url)}" target="_blank" rel="noopener noreferrer">{mark}</a>'
    return mark


def _shape(shape: str, cx: float, cy: float) -> str:
    dx, dy, rest = _SHAPES[shape]
    return f"M{cx + dx:.1f},{cy + dy:.1f}{rest}"


def _relative(r: float = _R) -> dict[str, tuple[float, float, str]]:
    """Each shape as a start (relative to its centre) and relative moves: one absolute
    point per mark to format, the rest a constant."""
    d = r * 1.3  # a diamond looks smaller than a circle of the same radius
    q = r * 0.7
    return {
        "circle": (-r, 0, f"a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0"),
        "diamond": (0, -d, f"l{d:.2f},{d:.2f}l{-d:.2f},{d:.2f}l{-d:.2f},{-d:.2f}z"),
        "triangle": (0, -r, f"l{r},{1.7 * r:.2f}h{-2 * r}z"),
        "cross": (-r, -r, f"l{2 * r},{2 * r}m0,{-2 * r}l{-2 * r},{2 * r}"),
        "square": (-q, -q, f"h{2 * q:.2f}v{2 * q:.2f}h{-2 * q:.2f}z"),
    }


_SHAPES = _relative()


def _legend(counts: Counter[str], converted: int) -> list[str]:
    """What each shape means, with how many of each are drawn."""
    out = []
    lx, ly = _LEFT, 22
    items = [(kind, f"{LABELS[kind]}: {counts[kind]:,}") for kind in LABELS if counts[kind]]
    for kind, label in items:
        out.append(
            f'<path class="k o-{kind}" d="{_shape(SHAPES.get(kind, "square"), lx + 5, ly - 4)}"/>'
            f'<text x="{lx + 14}" y="{ly}">{_e(label)}</text>'
        )
        lx += 22 + 7 * len(label)
    out.append(
        f'<path class="rec" d="M{lx},{ly - 4}h18"/><text x="{lx + 22}" y="{ly}">on record</text>'
    )
    lx, ly = _LEFT, ly + 20
    note = "a bar spans a range; each mark links to its article"
    if converted:
        out.append(f'<path class="k o-unchanged cv" d="{_shape("circle", lx + 5, ly - 4)}"/>')
        lx += 14
        note = f"hollow: reported in another currency, converted ({converted:,}); " + note
    out.append(f'<text class="note" x="{lx}" y="{ly}">{_e(note)}</text>')
    return out
