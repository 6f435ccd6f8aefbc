"""Watches: the rules files that say what to follow and which figures are claims.

Each `rules/*.yaml` holds one watch. Loading checks everything a person could get
wrong and reports every problem at once, each as `file:line: key.path: what was expected`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from monitor.articles import detect_lang
from monitor.errors import RulesError, RulesErrors
from monitor.figures import Figure, extract
from monitor.googlenews import GOOGLE_NEWS, search_url
from monitor.roles import PLACES, Kind

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
AUTO = "auto"  # `google_news: auto`: searches built from the watch's entities and keywords
AUTO_QUERIES = 5  # searches `google_news: auto` builds for one feed entry, at most

# What a rules file may cost to read (README.md, Limits): a watch is a few kilobytes.
MAX_RULES_BYTES = 1_000_000
MAX_RULES_DEPTH = 50  # nested lists and mappings
MAX_RULES_VALUES = 100_000  # values, once YAML aliases are expanded
# The tags rules files use: YAML's standard collections; scalars are read by SafeLoader,
# which refuses any tag it does not know.
_PLAIN_TAGS: dict[type, tuple[str, ...]] = {
    yaml.MappingNode: ("tag:yaml.org,2002:map",),
    yaml.SequenceNode: ("tag:yaml.org,2002:seq",),
}


Duration = Annotated[
    float,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "description": "How often to poll: a number with s, m, h or d, like 30s or 15m.",
        }
    ),
]
Percent = Annotated[
    float,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _PERCENT.pattern},
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
            ],
            "description": "How far a report may differ and still match, like 5%.",
        }
    ),
]


def parse_duration(text: str | float) -> float:
    """Seconds in `2s`, `15m`, `1h`, `1d` (a bare number is seconds)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(
                f'"{text}" is not a duration; write a number with s, m, h or d, like 30s or 15m'
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f'"{text}" must be longer than zero')
    return seconds


def parse_money(text: str) -> Figure:
    """The one figure a person wrote as a claim's value ("5조~7조 달러", "$40 billion")."""
    figures = [f for f in extract(text) if f.role == "value" and f.conversion_of is None]
    if not figures or figures[0].vague:
        raise ValueError(f'"{text}" is not a money amount')
    if len(figures) > 1:
        raise ValueError(f'"{text}" holds {len(figures)} amounts; write one amount or one range')
    return figures[0]


EntityId = Annotated[str, StringConstraints(pattern=SLUG)]
Aliases = Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedRule(_Strict):
    """A feed to poll: a URL, or a Google News search built from a query."""

    url: str | None = Field(None, description="An RSS, Atom or JSON Feed URL.")
    google_news: str | None = Field(
        None,
        description="A Google News search query, or `auto`: searches built from the watch's "
        "entities and keywords in `lang`.",
    )
    lang: str = Field("en-US", description="Edition of a Google News search: en-US, ko, ...")
    every: Duration = 900.0
    full_text: bool = Field(False, description="Fetch each article's page for its full text.")

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f'"{value}" is not an http(s) URL')
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FeedRule:
        if (self.url is None) == (self.google_news is None):
            raise ValueError("a feed needs either `url` or `google_news`, not both and not neither")
        return self

    @property
    def is_search(self) -> bool:
        """Whether it is a Google News search (its items are about the watch already)."""
        return self.google_news is not None

    @property
    def is_auto(self) -> bool:
        """Whether its searches are built from the watch (`google_news: auto`)."""
        return (self.google_news or "").strip().lower() == AUTO

    def queries(self, watch: Watch) -> list[str]:
        """Its Google News searches: the query as written, or those `auto` builds."""
        if self.is_auto:
            return auto_queries(watch.entities, watch.keywords, self.lang)
        return [self.google_news] if self.google_news is not None else []

    def urls(self, watch: Watch, google_news_url: str = GOOGLE_NEWS) -> list[str]:
        """The URLs polled for it: its `url`, or one search URL per query."""
        if self.url is not None:
            return [self.url]
        return [search_url(q, self.lang, google_news_url) for q in self.queries(watch)]


def auto_queries(
    entities: Mapping[str, Sequence[str]], keywords: Sequence[str], lang: str
) -> list[str]:
    """The searches of `google_news: auto`: for each entity in rules order, its first alias
    in `lang`'s script (Hangul for Korean, else Latin) with the keywords in that script as
    alternatives: `"Sam Altman" (chip OR semiconductor)`. At most AUTO_QUERIES, so that a
    long entity list cannot multiply the requests of one feed entry."""
    script = "ko" if lang.lower().startswith("ko") else "en"
    words = [k for k in keywords if detect_lang(k) == script]
    either = f" ({' OR '.join(words)})" if len(words) > 1 else f" {words[0]}" if words else ""
    queries: list[str] = []
    for aliases in entities.values():
        alias = next((a for a in aliases if detect_lang(a) == script), None)
        if alias is not None and (query := f'"{alias}"{either}') not in queries:
            queries.append(query)
    return queries[:AUTO_QUERIES]


class StatedValue(_Strict):
    """Another value the source stated for the same claim (a typo, a mix-up, a second figure)."""

    value: str
    quote: str | None = None
    note: str | None = None
    _figure: Figure = PrivateAttr()

    @field_validator("value")
    @classmethod
    def _money(cls, value: str) -> str:
        parse_money(value)
        return value

    def model_post_init(self, context: Any) -> None:
        self._figure = parse_money(self.value)

    @property
    def figure(self) -> Figure:
        return self._figure


class ClaimRule(StatedValue):
    """A figure a story rests on, with the value it was first reported at."""

    id: str = Field(pattern=SLUG)
    title: str | None = Field(None, description="A name for people; defaults to the id.")
    about: list[str] = Field(min_length=1, description="Entity ids this figure is about.")
    topic: list[str] = Field(min_length=1, description="Words that tie a figure to this claim.")
    unless: list[str] = Field(
        default_factory=list,
        description="Words that, in a figure's clause, rule this claim out (grant, 보조금).",
    )
    kind: list[Kind] = Field(
        default_factory=list,
        description="What kind of money this claim is (investment, target, raised, deal, ...); "
        "a figure read as another kind is not tied to it. Empty: any kind.",
    )
    where: list[str] = Field(
        default_factory=list,
        description="Places this claim's money is spent or held (US, KR, or a watch place id); "
        "a figure placed elsewhere is not tied to it. Empty: anywhere.",
    )
    as_of: date
    tolerance: Percent = 0.05
    also: list[StatedValue] = Field(
        default_factory=list, description="Other values the source stated for this claim."
    )

    @field_validator("tolerance", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> float:
        if isinstance(value, str):
            match = _PERCENT.match(value)
            if not match:
                raise ValueError(f'"{value}" is not a percentage; write it like 5%')
            value = float(match.group(1)) / 100
        if not isinstance(value, int | float) or not 0 <= value < 1:
            raise ValueError(f'"{value}" must be a percentage from 0% to 99%')
        return float(value)

    @property
    def name(self) -> str:
        return self.title or self.id


class SlackRule(_Strict):
    channel: str | None = Field(None, description="Overrides SLACK_CHANNEL for this watch.")


class DigestRule(_Strict):
    """A daily digest of the watch: at a time of day, in a time zone."""

    at: str = Field(
        description='Time of day, 24-hour HH:MM in quotes, like "09:00".',
        json_schema_extra={"pattern": _TIME_OF_DAY.pattern},
    )
    tz: str = Field("UTC", description="An IANA time zone name, like Asia/Seoul or UTC.")

    @field_validator("at", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            # YAML 1.1 reads an unquoted 12:30 as a base-60 number: 750.
            hours, minutes = divmod(value, 60)
            raise ValueError(
                f"{value} is a number, not a time of day (YAML reads an unquoted {hours}:"
                f'{minutes:02d} as one); write it in quotes, like at: "{hours:02d}:{minutes:02d}"'
            )
        if not isinstance(value, str) or not _TIME_OF_DAY.match(value):
            raise ValueError(f'"{value}" is not a time of day; write it as HH:MM, like "09:00"')
        return value

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'"{value}" is not a time zone; write an IANA name, like Asia/Seoul or UTC'
            ) from None
        return value

    @property
    def time_of_day(self) -> time:
        hours, minutes = self.at.split(":")
        return time(int(hours), int(minutes))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class Watch(_Strict):
    """One rules file: entities, keywords, feeds and the claims to diff against."""

    watch: str = Field(pattern=SLUG, description="A unique slug.")
    title: str
    entities: dict[EntityId, Aliases] = Field(description="Entity id -> aliases, in any language.")
    places: dict[EntityId, Aliases] = Field(
        default_factory=dict,
        description="Place id -> names, adding to or extending the built-in places (US, KR, ...).",
    )
    keywords: list[str] = Field(default_factory=list)
    feeds: list[FeedRule] = Field(default_factory=list)
    claims: list[ClaimRule] = Field(default_factory=list)
    slack: SlackRule = Field(default_factory=SlackRule)
    catch_up: bool = Field(
        True,
        description="On a feed's first poll, post its backlog's changes as one catch-up message "
        "per claim (on), or alert each one (off).",
    )
    digest: DigestRule | None = Field(
        None,
        description="Post a daily digest of the claims' changes, corroborations, decisions and "
        "feed health at this time of day.",
    )

    def feed_urls(self, google_news_url: str = GOOGLE_NEWS) -> dict[str, FeedRule]:
        """Every URL its feeds poll, with the rule each comes from."""
        return {url: rule for rule in self.feeds for url in rule.urls(self, google_news_url)}


class Rules(BaseModel):
    """Every watch that was loaded, and the files they came from."""

    model_config = ConfigDict(frozen=True)
    watches: list[Watch]
    files: dict[str, str]  # watch slug -> file path
    google_news_url: str = GOOGLE_NEWS  # where Google News searches go (MONITOR_GOOGLE_NEWS_URL)

    def watch(self, slug: str) -> Watch:
        return next(w for w in self.watches if w.watch == slug)

    def feeds(self) -> dict[str, tuple[Watch, FeedRule]]:
        """Every feed URL to poll, with the watch and the rule it comes from."""
        return {
            url: (w, rule)
            for w in self.watches
            for url, rule in w.feed_urls(self.google_news_url).items()
        }

    def intervals(self) -> dict[str, float]:
        """Every feed URL to poll, with its seconds between polls."""
        return {url: rule.every for url, (_, rule) in self.feeds().items()}


def rule_files(path: Path) -> list[Path]:
    """The rules files at `path`: the file itself, or a directory's *.yaml and *.yml."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if path.exists():
        return [path]
    raise RulesErrors([RulesError(str(path), None, "", "no such file or directory")])


def load_rules(path: Path | str, *, google_news_url: str | None = None) -> Rules:
    """Load and check every watch under `path`; raise `RulesErrors` listing each problem.

    `google_news_url`: the base of Google News search URLs; by default the
    MONITOR_GOOGLE_NEWS_URL setting, so that every command names a feed as the daemon does.
    """
    from monitor.settings import Settings  # its callers mostly have Settings at hand

    path = Path(path)
    files = rule_files(path)
    errors: list[RulesError] = []
    watches: list[Watch] = []
    origin: dict[str, str] = {}
    lines: dict[str, int] = {}
    for file in files:
        try:
            watch, watch_line = load_watch(file)
        except RulesErrors as exc:
            errors.extend(exc.errors)
            continue
        if watch.watch in origin:
            errors.append(
                RulesError(
                    str(file),
                    watch_line,
                    "watch",
                    f'"{watch.watch}" is already the slug of {origin[watch.watch]}:'
                    f"{lines[watch.watch]}; each watch needs its own",
                )
            )
            continue
        origin[watch.watch] = str(file)
        lines[watch.watch] = watch_line
        watches.append(watch)
    if not files:
        errors.append(RulesError(str(path), None, "", "holds no .yaml rules files"))
    if errors:
        raise RulesErrors(errors)
    base = google_news_url if google_news_url is not None else Settings().google_news_url
    return Rules(watches=watches, files=origin, google_news_url=base)


def load_watch(file: Path) -> tuple[Watch, int]:
    """One rules file as a `Watch`, with the line of its `watch:` key."""
    name = str(file)
    text = _read(file)
    node = _compose(text, name)
    if node is None:
        raise RulesErrors([RulesError(name, None, "", "is empty; a watch needs at least `watch:`")])
    errors: list[RulesError] = []
    data, lines = _Reader(name, errors).plain(node, ())
    if errors and not isinstance(data, dict):
        raise RulesErrors(errors)
    if not isinstance(data, dict):
        raise RulesErrors([RulesError(name, node.start_mark.line + 1, "", "must be a mapping")])
    try:
        watch = Watch.model_validate(data)
    except ValidationError as exc:
        unreadable = {error.path for error in errors}  # each said why already
        for err in exc.errors():
            loc = tuple(err["loc"])
            if _key_path(loc) in unreadable:
                continue
            errors.append(
                RulesError(name, _line_of(lines, loc), _key_path(loc), _message(err, data))
            )
        raise RulesErrors(errors) from None
    errors.extend(_cross_check(watch, name, lines))
    if errors:
        raise RulesErrors(errors)
    return watch, lines.get(("watch",), 1)


def _read(file: Path) -> str:
    """The text of a rules file: a regular file of at most MAX_RULES_BYTES, in UTF-8.

    Opened without blocking and checked before reading: a `.yaml` that is a FIFO or a
    link to /dev/zero hung the daemon.
    """
    name = str(file)
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise RulesErrors([RulesError(name, None, "", f"cannot be read: {exc.strerror}")]) from exc
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RulesErrors(
                [RulesError(name, None, "", "is not a regular file; rules must be plain files")]
            )
        raw = stream.read(MAX_RULES_BYTES + 1)
    if len(raw) > MAX_RULES_BYTES:
        raise RulesErrors(
            [
                RulesError(
                    name,
                    None,
                    "",
                    f"is larger than {MAX_RULES_BYTES:,} bytes; a watch is a few kilobytes, "
                    "so this is not a rules file (split it, or check what it is)",
                )
            ]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RulesErrors(
            [RulesError(name, line, "", f"is not UTF-8 text ({exc.reason}); save it as UTF-8")]
        ) from exc


def _compose(text: str, name: str) -> yaml.Node | None:
    """The YAML node graph of a file, after checking its nesting depth from the event
    stream (the composer recurses: 10,000 levels were a RecursionError)."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_RULES_DEPTH:
                    raise RulesErrors(
                        [
                            RulesError(
                                name,
                                event.start_mark.line + 1 if event.start_mark else None,
                                "",
                                f"nests more than {MAX_RULES_DEPTH} levels deep; a watch "
                                "needs a handful",
                            )
                        ]
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RulesErrors(
            [RulesError(name, line, "", f"is not valid YAML: {exc.problem or exc}")]
        ) from exc
    except yaml.YAMLError as exc:
        raise RulesErrors([RulesError(name, None, "", f"is not valid YAML: {exc}")]) from exc


class _Reader:
    """Plain data from a YAML node graph, within a budget: aliases are followed at most
    MAX_RULES_VALUES values in all (a 1 kB alias bomb took 47 s and 4 GB), never into
    themselves, and only the standard tags are read (a `!!python/...` tag is refused)."""

    def __init__(self, file: str, errors: list[RulesError]) -> None:
        self.file = file
        self.errors = errors
        self.values = 0
        self.open: set[int] = set()  # the collections being read: an alias to one recurses
        self.loader = yaml.SafeLoader("")

    def plain(
        self, node: yaml.Node, loc: tuple[Any, ...]
    ) -> tuple[Any, dict[tuple[Any, ...], int]]:
        """Plain data from `node`, and the line of every key path in it."""
        line = node.start_mark.line + 1
        lines: dict[tuple[Any, ...], int] = {loc: line}
        self.values += 1
        if self.values > MAX_RULES_VALUES:
            raise RulesErrors(
                [
                    *self.errors,
                    RulesError(
                        self.file,
                        line,
                        _key_path(loc),
                        f"the file holds more than {MAX_RULES_VALUES:,} values once its "
                        "aliases (*name) are expanded; a watch needs far fewer",
                    ),
                ]
            )
        if id(node) in self.open:
            self._problem(line, loc, "refers to itself (a recursive alias); write it out instead")
            return None, lines
        if node.tag not in _PLAIN_TAGS.get(type(node), (node.tag,)):
            self._problem(line, loc, f"has the tag {node.tag}, which rules files do not use")
            return None, lines
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, loc, lines)
                items = []
                for index, item in enumerate(node.value):
                    value, sub = self.plain(item, (*loc, index))
                    lines.update(sub)
                    items.append(value)
                return items, lines
            finally:
                self.open.discard(id(node))
        try:
            return self.loader.construct_object(node, deep=True), lines
        except yaml.MarkedYAMLError as exc:  # an unknown tag, a bad timestamp, ...
            self._problem(line, loc, f"cannot be read: {exc.problem or exc}")
            return None, lines

    def _mapping(
        self, node: yaml.MappingNode, loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]
    ) -> tuple[dict[Any, Any], dict[tuple[Any, ...], int]]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_line, loc, "has a key that is a list or a mapping; write a name")
                continue
            known = len(self.errors)
            key, _ = self.plain(key_node, loc)
            if len(self.errors) > known:
                continue
            if key in out:
                self._problem(
                    key_line, (*loc, key), f"is given twice (first on line {lines[(*loc, key)]})"
                )
                continue
            value, sub = self.plain(value_node, (*loc, key))
            sub[(*loc, key)] = key_line
            lines.update(sub)
            out[key] = value
        return out, lines

    def _problem(self, line: int, loc: tuple[Any, ...], message: str) -> None:
        self.errors.append(RulesError(self.file, line, _key_path(loc), message))


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest key in `loc` that the file has."""
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def _key_path(loc: tuple[Any, ...]) -> str:
    """`claims[0].value` from ("claims", 0, "value")."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping at `loc`, for "unknown key" messages."""
    model: type[BaseModel] = Watch
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        found = next((t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if found is None:
            return []
        model = found
    return list(model.model_fields)


def _message(err: Any, data: Any) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(loc[:-1]))
        return f"unknown key; the keys here are: {allowed}"
    if kind == "missing":
        return "is required but missing"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        return f'"{err["input"]}" must be a slug: lower-case letters, digits, - and _'
    if kind == "too_short":
        return "needs at least one item"
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return f'"{err["input"]}" is not a date; write it as YYYY-MM-DD'
    return f"{err['msg']} (got {err['input']!r})"


def _cross_check(
    watch: Watch, file: str, lines: dict[tuple[Any, ...], int]
) -> Iterator[RulesError]:
    """What no single field can check: duplicate ids, claims naming unknown entities."""
    seen: dict[str, int] = {}
    for index, claim in enumerate(watch.claims):
        if claim.id in seen:
            yield RulesError(
                file,
                lines.get(("claims", index, "id")),
                f"claims[{index}].id",
                f'"{claim.id}" is already the id of claims[{seen[claim.id]}]; '
                "claim ids must be unique",
            )
        seen.setdefault(claim.id, index)
        for j, entity in enumerate(claim.about):
            if entity not in watch.entities:
                known = ", ".join(watch.entities) or "none"
                yield RulesError(
                    file,
                    lines.get(("claims", index, "about", j)),
                    f"claims[{index}].about[{j}]",
                    f'"{entity}" is not an entity of this watch (entities: {known})',
                )
        for j, place in enumerate(claim.where):
            if place not in PLACES and place not in watch.places:
                names = ", ".join(sorted({*PLACES, *watch.places}))
                yield RulesError(
                    file,
                    lines.get(("claims", index, "where", j)),
                    f"claims[{index}].where[{j}]",
                    f'"{place}" is not a known place (places: {names}); add it under `places:`',
                )
    urls: dict[str, int] = {}
    for index, feed in enumerate(watch.feeds):
        feed_urls = feed.urls(watch)
        if feed.is_search and not feed_urls:
            script = "Korean" if feed.lang.lower().startswith("ko") else "Latin-script"
            yield RulesError(
                file,
                lines.get(("feeds", index, "google_news")),
                f"feeds[{index}].google_news",
                f"`auto` builds no search for lang {feed.lang}: no entity has a {script} "
                "alias; add one, or write the query",
            )
        for url in feed_urls:
            if url in urls:
                yield RulesError(
                    file,
                    lines.get(("feeds", index)),
                    f"feeds[{index}]",
                    f"is the same feed as feeds[{urls[url]}]",
                )
            urls.setdefault(url, index)


def json_schema() -> dict[str, Any]:
    """JSON Schema of a rules file, for editors."""
    schema = Watch.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "funding-monitor watch"
    return schema
