"""Stage Alert: an outbox row rendered as a Slack message a person can act on.

Pure: no I/O. `render` takes the row's plain values (kind, key, payload, channel)
and returns a `Message` within Slack's limits: Block Kit for people, fallback text
for notifications, and metadata that lets the outbox find the message again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

from monitor.notify.base import Message
from monitor.safetext import UNSAFE_CHARS, printable

# Slack's limits, in characters or elements.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
URL_LIMIT = 3000
_BUTTON_VALUE_LIMIT = 2000
BLOCK_LIMIT = 50
# Slack takes 40,000 characters of fallback text, but a notification shows a line or two,
# and a 50 kB title made a 50 kB text that Slack refused for good (msg_too_long).
TEXT_LIMIT = 3000
# Characters of each string in the metadata's event_payload (the key is never cut).
METADATA_STRING_LIMIT = 1000
_NOTIFICATION_QUOTE = 280  # a notification shows a line or two; the blocks carry the rest
CATCH_UP_LISTED = 10  # changes a catch-up message shows; the others are counted
# Changes a catch-up's metadata carries (`changes_total` counts them all): a backlog of
# thousands would make a message Slack refuses for good, and lose it.
CATCH_UP_IN_METADATA = 50
DIGEST_LISTED = 10  # changes, decisions or feeds a digest lists in one place; the rest counted
DIGEST_CHARS = 11000  # a digest's blocks in all, below Slack's msg_blocks_too_long (~13k)
_REASON = 200  # characters of a feed's error a digest shows
SUMMARY_CLAIMS_LISTED = 10  # claims a poll's summary names with their counts

EVENT_TYPES = MappingProxyType(
    {
        "change": "funding_figure_changed",
        "corroboration": "funding_figure_corroborated",
        "dismissed_report": "funding_figure_dismissed_report",
        "catch_up": "funding_figures_catch_up",
        "poll_summary": "funding_alerts_summarized",
        "feed_degraded": "feed_degraded",
        "feed_recovered": "feed_recovered",
        "digest": "funding_figures_digest",
    }
)

_SYMBOLS = MappingProxyType(
    {"USD": "$", "KRW": "₩", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹"}
)
_SCALES = ((1e12, "trillion", "T"), (1e9, "billion", "B"), (1e6, "million", "M"))
_QUALIFIERS = MappingProxyType({"approx": "about ", "at_most": "up to ", "at_least": "at least "})
_PARTIAL_ENTITY = re.compile(r"&[#a-z0-9]*$")
_URL_UNSAFE = re.compile(f"[<>|\\s{UNSAFE_CHARS}]")


def render(
    *,
    kind: str,
    key: str,
    payload: Mapping[str, Any],
    channel: str | None,
    parent_ts: str | None = None,
    buttons: bool = False,
) -> Message:
    """The message for one alert. A reply goes in the thread of `parent_ts` when given.

    `buttons`: a change offers "Accept" and "Not a change" (Slack interactivity is set
    up). A "decision" is its change's message again, showing the decision instead.
    """
    return _within_limits(
        _message(
            kind=kind,
            key=key,
            payload=payload,
            channel=channel,
            parent_ts=parent_ts,
            buttons=buttons,
        )
    )


def _message(
    *,
    kind: str,
    key: str,
    payload: Mapping[str, Any],
    channel: str | None,
    parent_ts: str | None,
    buttons: bool,
) -> Message:
    if kind == "change":
        return _change(key, payload, channel, buttons=buttons)
    if kind == "decision":
        return _decided(payload, channel)
    if kind in ("corroboration", "dismissed_report"):
        return _corroboration(kind, key, payload, channel, parent_ts)
    if kind == "catch_up":
        return _catch_up(key, payload, channel)
    if kind == "poll_summary":
        return _poll_summary(key, payload, channel)
    if kind in ("feed_degraded", "feed_recovered"):
        return _feed_health(kind, key, payload, channel)
    if kind == "digest":
        return _digest(key, payload, channel)
    raise ValueError(f"unknown alert kind {kind!r} (alert {key})")


def format_money(low: float, high: float, currency: str, *, short: bool = False) -> str:
    """`$7 trillion`, `$5–7 trillion`, `₩622 trillion`; with `short`, `$5T–$7T`."""
    if low == high:
        return _amount(high, currency, short)
    scale = _scale(high)
    if not short and scale is not None and scale == _scale(low):
        size, word, _ = scale
        return f"{_prefix(currency)}{_number(low / size)}–{_number(high / size)} {word}"
    return f"{_amount(low, currency, short)}–{_amount(high, currency, short)}"


def _change(key: str, p: Mapping[str, Any], channel: str | None, *, buttons: bool) -> Message:
    claim_title = p.get("claim_title") or p["claim"]
    was, now = _shown(p["previous"]), _shown(p["reported"]) + _in_usd(p)
    publisher = p.get("publisher") or "A news source"
    pct = p.get("change_pct")
    published_mrkdwn, published_plain = _when(p.get("published"))
    summary = (
        f"*{_escape(publisher)}* reports *{_escape(now)}* for {_escape(claim_title)}: "
        f"{_meaning(pct, f'*{_escape(was)}*')}.{_baseline_note(p)}\n"
        "The monitor now counts this value as known: further reports of it will be "
        "threaded under this message."
    )
    blocks: list[dict[str, Any]] = [
        _header(f"Funding figure changed: {claim_title}"),
        _section(summary),
        {
            "type": "section",
            "fields": [
                _field("Was → Now", f"{_escape(was)} → {_escape(now)}"),
                _field("Change", _percent(pct) if pct is not None else "unknown (no rate)"),
                _field("Source", _escape(publisher)),
                _field("Published", published_mrkdwn),
            ],
        },
    ]
    if p.get("quote"):
        blocks.append(_section(_quote(p["quote"])))
    if p.get("why"):
        # Why the figure is this claim's, so a reader can judge the alert at a glance.
        blocks.append(_context(f"Why this claim: {_escape(_clip(p['why'], SECTION_LIMIT))}"))
    blocks.append(
        _context(_article_line(p), f"Watch: {_escape(p.get('watch_title') or p['watch'])}")
    )
    decision = p.get("decision")
    if decision:
        blocks.append(_context(_decision_line(decision)))
    blocks += _actions(p.get("article_url"), key if buttons and not decision else None)
    text = (
        f"Funding figure changed: {claim_title}: {publisher} reports {now}, was {was}"
        f" ({_percent(pct) if pct is not None else 'change unknown'}), {published_plain}."
    )
    return Message(
        channel=channel,
        text=_escape(text),
        blocks=blocks,
        metadata=_figure_metadata("change", key, p),
    )


def _decided(p: Mapping[str, Any], channel: str | None) -> Message:
    """A change's message as updated once a person decided: the decision shown, no buttons.

    Its text is the decision in a line: what a target that cannot edit a message posts.
    """
    message = _change(p["key"], p, channel, buttons=False)
    decision = p["decision"]
    claim_title = p.get("claim_title") or p["claim"]
    now = _shown(p["reported"])
    what = (
        f"{now} accepted as the value on record of {claim_title}"
        if decision["action"] == "accept"
        else f"{now} for {claim_title} dismissed: not a change"
    )
    text = f"{what}, by {decision['by']} ({p.get('publisher') or 'unknown source'})."
    return Message(
        channel=channel,
        text=_escape(_clip(text, _NOTIFICATION_QUOTE)),
        blocks=message.blocks,
        metadata=message.metadata,
    )


def _decision_line(decision: Mapping[str, Any]) -> str:
    """Who decided what, when: "✅ Accepted as the value on record by @alice, <date>"."""
    who = f"<@{decision['user_id']}>" if decision.get("user_id") else _escape(decision["by"])
    when, _ = _when(decision.get("at"))
    if decision["action"] == "accept":
        return f":white_check_mark: *Accepted as the value on record* by {who}, {when}"
    return (
        f":no_entry_sign: *Dismissed: not a change*, by {who}, {when}. Later reports of "
        "this value are threaded here and not alerted."
    )


def _corroboration(
    kind: str, key: str, p: Mapping[str, Any], channel: str | None, parent_ts: str | None
) -> Message:
    """Another report of an alerted value; or of a dismissed one (kind "dismissed_report")."""
    publisher = p.get("publisher") or "another source"
    now = _shown(p["reported"])
    # Outside a thread the reader does not see which claim it is about.
    about = "" if parent_ts else f"{p.get('claim_title') or p['claim']}: "
    also = (
        "Reported earlier, before the alert's source,"
        if p.get("published_earlier")
        else "Also reported"
    )
    if kind == "dismissed_report":
        also = "The dismissed value reported again"
    head = f"{about}{also} by {publisher} ({now})"
    body = f"*{_escape(head)}*" + (f"\n{_quote(p['quote'])}" if p.get("quote") else "")
    published_mrkdwn, _ = _when(p.get("published"))
    quote = _clip(p.get("quote") or "", _NOTIFICATION_QUOTE)
    return Message(
        channel=channel,
        text=_escape(f"{head}: “{quote}”" if quote else head),
        blocks=[_section(body), _context(_article_line(p), published_mrkdwn)],
        metadata=_figure_metadata(kind, key, p),
        thread_ts=parent_ts,
    )


def _catch_up(key: str, p: Mapping[str, Any], channel: str | None) -> Message:
    """The changes a feed's backlog held for one claim, in one message instead of a burst."""
    claim_title = p.get("claim_title") or p["claim"]
    changes = p["changes"]
    listed, more = changes[:CATCH_UP_LISTED], len(changes) - CATCH_UP_LISTED
    reports = f"{len(changes)} report{'s' if len(changes) != 1 else ''}"
    summary = (
        f"Reading a feed for the first time, the monitor found *{reports}* of other values "
        f"than those on record for {_escape(claim_title)}, published before it started. "
        "They are known values now: later reports are compared with them."
    )
    blocks: list[dict[str, Any]] = [_header(f"Catch-up: {claim_title}"), _section(summary)]
    blocks += [_section(_catch_up_line(change)) for change in listed]
    if more > 0:
        blocks.append(_context(f"and {more} more: `monitor history {_escape(p['claim'])}`"))
    blocks.append(_context(f"Watch: {_escape(p.get('watch_title') or p['watch'])}"))
    shown = ", ".join(_shown(c["reported"]) for c in listed) + (
        f" and {more} more" if more > 0 else ""
    )
    return Message(
        channel=channel,
        text=_escape(
            _clip(f"Catch-up: {claim_title}: {reports} published earlier: {shown}.", SECTION_LIMIT)
        ),
        blocks=blocks,
        metadata={
            "event_type": EVENT_TYPES["catch_up"],
            "event_payload": {
                "watch": p["watch"],
                "claim": p["claim"],
                "changes": [
                    {
                        "reported": _present(c["reported"], ("low", "high", "currency", "text")),
                        "article_url": c.get("article_url") or "",
                        "publisher": c.get("publisher") or "",
                        "published": c.get("published") or "",
                    }
                    for c in changes[:CATCH_UP_IN_METADATA]
                ],
                "changes_total": len(changes),
                "key": key,
            },
        },
    )


def _catch_up_line(change: Mapping[str, Any]) -> str:
    """One change of a catch-up: the value, who published it and when, and the article."""
    publisher = _escape(change.get("publisher") or "a news source")
    when, _ = _when(change.get("published"))
    return f"*{_escape(_shown(change['reported']))}*: {publisher}, {when}\n{_article_line(change)}"


def _poll_summary(key: str, p: Mapping[str, Any], channel: str | None) -> Message:
    """What one poll found beyond the messages it may send one by one, counted, not posted."""
    changes, reports = int(p["more_changes"]), int(p["more_corroborations"])
    feed = p.get("feed_url") or "a feed"
    parts = [_count(changes, "more change")] if changes else []
    parts += [f"{_count(reports, 'more report')} of known values"] if reports else []
    counted = " and ".join(parts)
    summary = (
        f"One poll of {_escape(feed)} found more alerts than the {int(p['sent_alone'])} "
        f"it posts one by one. *{_escape(counted)}* are recorded but not posted: they are "
        "known values now, later reports of them reply in this thread, and "
        "`monitor alerts` lists each (status `summarized`)."
    )
    claims = p.get("claims") or []
    lines = [
        f"• {_escape(c.get('claim_title') or c['claim'])}: {_count(c['changes'], 'change')}"
        for c in claims[:SUMMARY_CLAIMS_LISTED]
    ]
    if len(claims) > SUMMARY_CLAIMS_LISTED:
        lines.append(f"• and {len(claims) - SUMMARY_CLAIMS_LISTED} more claims")
    title = p.get("watch_title") or p["watch"]
    blocks: list[dict[str, Any]] = [_header(f"More alerts than one poll posts: {title}")]
    blocks.append(_section(summary))
    if lines:
        blocks.append(_section("\n".join(lines)))
    blocks.append(_context(f"Watch: {_escape(title)}"))
    return Message(
        channel=channel,
        text=_escape(_clip(f"and {counted} on {feed}: see `monitor alerts`", SECTION_LIMIT)),
        blocks=blocks,
        metadata={
            "event_type": EVENT_TYPES["poll_summary"],
            "event_payload": {
                "watch": p["watch"],
                "feed_url": p.get("feed_url") or "",
                "changes": changes,
                "corroborations": reports,
                "claims": {c["claim"]: c["changes"] for c in claims},
                "key": key,
            },
        },
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _baseline_note(p: Mapping[str, Any]) -> str:
    """Says so when nothing was on record yet when the article was published."""
    as_of, published = p["previous"].get("as_of"), p.get("published")
    if not as_of or not published or as_of <= published[:10]:
        return ""
    return (
        f" Nothing was on record yet when it was published: compared with the value "
        f"stated as of {_escape(as_of)}."
    )


def _feed_health(kind: str, key: str, p: Mapping[str, Any], channel: str | None) -> Message:
    watch, url = p["watch"], p["feed_url"]
    failures = int(p.get("failures") or 0)
    polls = f"{failures} failed poll{'s' if failures != 1 else ''}"
    since = _when(p.get("since"))[1]
    if kind == "feed_degraded":
        reason = p.get("reason") or "no reason given"
        headline = f"Feed degraded: {watch}"
        body = (
            f"{url} has had {polls} in a row, since {since}. Last error: {reason}.\n"
            "Until it recovers, news from this feed is not being read: check the address, "
            "or whether the site is down."
        )
    else:
        headline = f"Feed recovered: {watch}"
        body = (
            f"{url} answers again after {polls} (failing since {since}). "
            "News from it is being read again."
        )
    return Message(
        channel=channel,
        text=_escape(f"{headline}. {body}"),
        blocks=[_header(headline), _section(_escape(body))],
        metadata={
            "event_type": EVENT_TYPES[kind],
            "event_payload": {
                "watch": watch,
                "feed_url": url,
                "reason": p.get("reason") or "",
                "failures": failures,
                "since": p.get("since") or "",
                "key": key,
            },
        },
    )


def _digest(key: str, p: Mapping[str, Any], channel: str | None) -> Message:
    """A watch's digest (`monitor.digest`): a section per claim with news, then the feeds.

    Sections are added while the message stays within Slack's limits; the claims left
    out are counted, and `monitor digest WATCH --json` has them all.
    """
    title = p.get("watch_title") or p["watch"]
    claims, feeds = p["claims"], p["feeds"]
    changes = sum(len(c["changes"]) for c in claims)
    corroborations = sum(c["corroborations"] for c in claims)
    decisions = sum(len(c["decisions"]) for c in claims)
    (since, since_plain), (until, until_plain) = _when(p["since"]), _when(p["until"])
    counts = (
        f"{_count(changes, 'change')}, {_count(corroborations, 'corroboration')}, "
        f"{_count(decisions, 'decision')}; {_count(len(feeds['failing']), 'feed')} failing"
    )
    heading = f"Daily digest: {title}, {p['date']}" if p.get("scheduled") else f"Digest: {title}"
    blocks: list[dict[str, Any]] = [
        _header(heading),
        _section(f"From {since} to {until}: {_escape(counts)}."),
    ]
    sections = [_section(_digest_claim(c)) for c in claims]
    if any(feeds.values()):
        sections.append(_section(_digest_feeds(feeds)))
    size = sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)
    shown = 0
    for block in sections:
        size += len(json.dumps(block, ensure_ascii=False))
        if size > DIGEST_CHARS or len(blocks) >= BLOCK_LIMIT - 3:
            break
        blocks.append(block)
        shown += 1
    if shown < len(sections):
        more = len(sections) - shown
        blocks.append(
            _context(
                f"and {more} more section{'s' if more != 1 else ''}: `monitor digest "
                f"{_escape(p['watch'])} --json`"
            )
        )
    if p.get("quiet"):
        blocks.append(_context(_escape("No news: " + ", ".join(p["quiet"]))))
    blocks.append(_context(f"Watch: {_escape(title)}"))
    return Message(
        channel=channel,
        text=_escape(f"{heading}: from {since_plain} to {until_plain}: {counts}."),
        blocks=blocks,
        metadata={
            "event_type": EVENT_TYPES["digest"],
            "event_payload": {
                "watch": p["watch"],
                "date": p["date"],
                "since": p["since"],
                "until": p["until"],
                "scheduled": bool(p.get("scheduled")),
                "changes": changes,
                "corroborations": corroborations,
                "decisions": decisions,
                "claims": [c["claim"] for c in claims],
                "failing_feeds": len(feeds["failing"]),
                "key": key,
            },
        },
    )


def _digest_claim(c: Mapping[str, Any]) -> str:
    """One claim's part of a digest: its changes, corroborations and decisions, in mrkdwn."""
    lines = [f"*{_escape(c['claim_title'])}*"]
    lines += _listed(
        [
            f"• *{_escape(x['was'])} → {_escape(x['now'])}*: "
            f"{_article_line({**x, 'article_title': x['publisher'] or x['article_title']})}, "
            f"{_when(x.get('published'))[0]}"
            + (f" ({_escape(x['decision'])})" if x.get("decision") else "")
            for x in c["changes"]
        ],
        "change",
        SECTION_LIMIT // 2,
    )
    if c["corroborations"]:
        outlets = ", ".join(c["outlets"])
        by = f"Corroborated {_count(c['corroborations'], 'time')}, by {outlets}"
        lines.append(_escape(_clip(by, SECTION_LIMIT // 6)))
    lines += _listed(
        [
            f"• {_escape(d['by'])} {_escape(d['action'])}"
            + (f" {_escape(d['value'])}" if d.get("value") else "")
            + f" via {_escape(d['via'])}, {_when(d['at'])[0]}"
            for d in c["decisions"]
        ],
        "decision",
        SECTION_LIMIT // 4,
    )
    return "\n".join(lines)


def _digest_feeds(feeds: Mapping[str, Any]) -> str:
    """The feeds' health in a digest: degraded and recovered in the period, failing now."""
    lines = ["*Feeds*"]
    lines += _listed(
        [
            f"• Degraded: {_escape(e['feed_url'])} ({_escape(_clip(e['reason'], _REASON))}), "
            f"{_when(e['at'])[0]}"
            for e in feeds["degraded"]
        ],
        "degraded feed",
        SECTION_LIMIT // 3,
    )
    lines += _listed(
        [f"• Recovered: {_escape(e['feed_url'])}, {_when(e['at'])[0]}" for e in feeds["recovered"]],
        "recovered feed",
        SECTION_LIMIT // 4,
    )
    lines += _listed(
        [
            f"• Failing now: {_escape(f['feed_url'])}, {_count(f['failures'], 'failed poll')} "
            f"in a row" + (f": {_escape(_clip(f['error'], _REASON))}" if f["error"] else "")
            for f in feeds["failing"]
        ],
        "failing feed",
        SECTION_LIMIT // 3,
    )
    return "\n".join(lines)


def _listed(lines: list[str], noun: str, budget: int) -> list[str]:
    """Whole lines, at most `DIGEST_LISTED` and `budget` characters in all; the rest counted.

    Lines are never cut: a cut could fall inside a link.
    """
    shown: list[str] = []
    size = 0
    for line in lines[:DIGEST_LISTED]:
        size += len(line) + 1
        if size > budget:
            break
        shown.append(line)
    more = len(lines) - len(shown)
    return shown + ([f"and {_count(more, f'more {noun}')}"] if more else [])


def _figure_metadata(kind: str, key: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata contract; Slack takes no nulls, so unknown values are left out."""
    reported = p["reported"]
    return {
        "event_type": EVENT_TYPES[kind],
        "event_payload": {
            "watch": p["watch"],
            "claim": p["claim"],
            "previous": _present(p["previous"], ("low", "high", "currency", "as_of")),
            "reported": _present(reported, ("low", "high", "currency", "text")),
            "usd": _present(p.get("usd") or {}, ("low", "high")),
            "article_url": p.get("article_url") or "",
            "publisher": p.get("publisher") or "",
            "published": p.get("published") or "",
            "quote": _clip(p.get("quote") or "", SECTION_LIMIT),
            "key": key,
            **({"published_earlier": True} if p.get("published_earlier") else {}),
            **({"why": _clip(p["why"], SECTION_LIMIT)} if p.get("why") else {}),
        },
    }


def _present(value: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: value[k] for k in keys if value.get(k) is not None}


def _shown(value: Mapping[str, Any]) -> str:
    """A value as written when the writer's form says more ("5조~7조 달러 ($5T–$7T)")."""
    low, high, currency = value["low"], value["high"], value["currency"]
    text = (value.get("text") or "").strip()
    if text and not text.isascii():
        # The qualifier ("약", "최대") is part of what was written.
        return f"{text} ({format_money(low, high, currency, short=True)})"
    qualifier = _QUALIFIERS.get(value.get("qualifier") or "exact", "")
    return qualifier + format_money(low, high, currency)


def _in_usd(p: Mapping[str, Any]) -> str:
    usd = p.get("usd") or {}
    if p["reported"]["currency"] == "USD" or usd.get("low") is None:
        return ""
    return f", ≈ {format_money(usd['low'], usd['high'], 'USD')}"


def _meaning(pct: float | None, was: str) -> str:
    """How the report compares with `was`; `pct` is in percent (40.0 means 40% more)."""
    if pct is None:
        return f"the record says {was}; with no exchange rate at hand they cannot be compared"
    if abs(pct) < 0.05:
        return f"the same amount in dollars as the {was} on record, written differently"
    direction = "more" if pct > 0 else "less"
    return f"{_percent(pct).lstrip('+−')} {direction} than the {was} on record"


def _percent(pct: float) -> str:
    sign = "+" if pct > 0 else "−" if pct < 0 else "±"
    size = abs(pct)
    if size < 10:
        digits = f"{size:.1f}".removesuffix(".0")
    elif 99.5 <= size < 100:  # a 99.95% cut must not read as "−100%", as if to nothing
        digits = f"{size:.2f}"
    else:
        digits = f"{size:,.0f}"
    return f"{sign}{digits}%"


def _amount(value: float, currency: str, short: bool) -> str:
    scale = _scale(value)
    if scale is None:
        return f"{_prefix(currency)}{value:,.0f}"
    size, word, letter = scale
    return f"{_prefix(currency)}{_number(value / size)}" + (letter if short else f" {word}")


def _scale(value: float) -> tuple[float, str, str] | None:
    return next((scale for scale in _SCALES if abs(value) >= scale[0]), None)


def _prefix(currency: str) -> str:
    return _SYMBOLS.get(currency, f"{currency} ")


def _number(value: float) -> str:
    """At most three significant digits, which is all a headline figure carries."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{2 if value < 10 else 1}f}".rstrip("0").rstrip(".")


def _when(iso: str | None) -> tuple[str, str]:
    """A timestamp as mrkdwn (shown in the reader's time zone) and as plain UTC text."""
    if not iso:
        return "unknown", "unknown"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return _escape(iso), iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    plain = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{plain}>", plain


def _article_line(p: Mapping[str, Any]) -> str:
    title = _escape(p.get("article_title") or p.get("article_url") or "the article")
    url = _link_target(p.get("article_url"))
    return f"<{url}|{title.replace('|', '¦')}>" if url else title


def _link_target(url: str | None) -> str | None:
    """`url` fit to link to, in mrkdwn or a button; None when it is not a web address.

    A feed's link is written by strangers: `<`, `>`, `|`, spaces and invisible characters
    are percent-encoded so that it cannot end the link early and add a live `<!channel>`
    or a link disguised by another label; schemes other than http(s) are refused.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    safe = _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), url)
    return safe if len(safe) <= URL_LIMIT else None


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, HEADER_LIMIT)}}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(mrkdwn, SECTION_LIMIT)}}


def _field(label: str, mrkdwn: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(f"*{label}*\n{mrkdwn}", FIELD_LIMIT)}


def _context(*parts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _clip(part, SECTION_LIMIT)} for part in parts],
    }


def _actions(url: str | None, decide: str | None) -> list[dict[str, Any]]:
    """The message's buttons: the article, and when `decide` (the alert key) is given,
    "Accept" and "Not a change", whose `value` is that key (`monitor.interactions`)."""
    elements: list[dict[str, Any]] = []
    url = _link_target(url)
    if url:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Read the article"},
                "url": url,
                "action_id": "open_article",
            }
        )
    if decide and len(decide) <= _BUTTON_VALUE_LIMIT:
        elements += [
            _decision_button(
                "accept_value",
                "Accept as the value on record",
                decide,
                "primary",
                "Make this figure the claim's value on record? The earlier value stays known.",
            ),
            _decision_button(
                "dismiss_value",
                "Not a change",
                decide,
                "danger",
                "Dismiss this alert? Later reports of this value will not alert.",
            ),
        ]
    return [{"type": "actions", "elements": elements}] if elements else []


def _decision_button(
    action_id: str, label: str, key: str, style: str, question: str
) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": key,
        "style": style,
        "confirm": {
            "title": {"type": "plain_text", "text": "Are you sure?"},
            "text": {"type": "plain_text", "text": question},
            "confirm": {"type": "plain_text", "text": "Yes"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        },
    }


def _quote(text: str) -> str:
    """A block quote, clipped so that the section stays within Slack's limit."""
    lines = _escape(" ".join(text.split()))
    return _clip(f"> {lines}", SECTION_LIMIT)


def _escape(text: str) -> str:
    """Slack's mrkdwn escaping: only these three characters are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _within_limits(message: Message) -> Message:
    """`message` as Slack takes it whatever the feed said: its fallback text and each string
    of its metadata clipped, and no control or bidi character anywhere."""
    metadata = message.metadata
    if metadata is not None:
        metadata = {**metadata, "event_payload": _cleaned(metadata["event_payload"], True)}
    return Message(
        channel=message.channel,
        text=_clip(printable(message.text), TEXT_LIMIT),
        blocks=_cleaned(message.blocks, False),
        metadata=metadata,
        thread_ts=message.thread_ts,
    )


def _cleaned(value: Any, clip: bool) -> Any:
    """`value` with every string printable, and when `clip`, within METADATA_STRING_LIMIT."""
    if isinstance(value, str):
        text = printable(value)
        return _clip(text, METADATA_STRING_LIMIT) if clip else text
    if isinstance(value, list):
        return [_cleaned(v, clip) for v in value]
    if isinstance(value, dict):
        return {k: v if k == "key" else _cleaned(v, clip) for k, v in value.items()}
    return value


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an `&amp;` entity."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]).rstrip() + "…"
