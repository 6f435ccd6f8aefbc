"""Storage: the tables, the engine and the few writes that must be atomic.

SQLite is set up for a daemon with a thread pool (WAL, busy_timeout, foreign keys,
`BEGIN IMMEDIATE` for writes); PostgreSQL works through the same code. The schema
is owned by the Alembic migrations in `monitor/migrations`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Index, UniqueConstraint, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool
from sqlmodel import Field, Session, SQLModel, create_engine

from monitor.errors import ConfigError


def utcnow() -> datetime:
    return datetime.now(UTC)


class FeedState(SQLModel, table=True):
    """What the last polls of one feed found; drives conditional GET, backoff and health."""

    __tablename__ = "feed_state"
    url: str = Field(primary_key=True)
    watch: str = Field(index=True)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    # JSON object: each item id of the last document processed -> a hash of the item's
    # bytes (`parse.item_digest`), or null when unknown (a feed the regex scan cannot read)
    seen_ids: str | None = None
    last_poll_at: datetime | None = None
    last_status: int | None = None  # HTTP status of the last poll
    last_result: str | None = None  # new | unchanged | not_modified | failed
    last_error: str | None = None
    warning: str | None = None  # feedparser's complaint about a feed it could still read
    failures: int = 0  # failed polls in a row
    next_poll_at: datetime | None = None  # not before this (backoff, Retry-After)
    degraded: bool = False  # a "feed degraded" message was raised and not yet recovered
    polls: int = 0
    articles: int = 0


class ArticleRow(SQLModel, table=True):
    """One news article, stored once however many feeds carry it."""

    __tablename__ = "article"
    # For the syndicated-copy lookup of every new article (`observe._stored_alike`): without
    # it SQLite scanned all of a publisher's articles.
    __table_args__ = (Index("ix_article_alike", "title_key", "publisher", "published"),)
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)  # canonical
    guid: str
    title: str
    title_key: str
    summary: str = ""
    body: str | None = None
    content_hash: str | None = None  # `Article.content_hash`; None when stored before 0003
    published: datetime = Field(index=True)
    publisher: str = Field(index=True)
    lang: str
    feed_url: str
    fetched_at: datetime = Field(default_factory=utcnow)


class ClaimRow(SQLModel, table=True):
    """A claim as the rules state it; kept in step with the rules at each load."""

    __tablename__ = "claim"
    watch: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    title: str
    value: str
    low: float
    high: float
    currency: str
    as_of: date
    tolerance: float
    quote: str | None = None


class ObservationRow(SQLModel, table=True):
    """A figure read in an article and attributed to a claim, with its evidence."""

    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("article_id", "watch", "start", name="uq_observation_span"),)
    id: int | None = Field(default=None, primary_key=True)
    watch: str = Field(index=True)
    claim: str | None = Field(default=None, index=True)  # None when ambiguous
    candidates: str | None = None  # the tied claims, when ambiguous
    article_id: int = Field(foreign_key="article.id", index=True)
    start: int
    text: str
    low: float
    high: float
    currency: str
    qualifier: str
    role: str
    usd_low: float | None = None
    usd_high: float | None = None
    mixup: str | None = None
    quote: str
    why: str | None = None  # why it was tied, in words (`Attribution.why`); None before 0003
    outcome: str  # unchanged | change | corroboration | context | mixup | ambiguous | vague
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    observed_at: datetime = Field(default_factory=utcnow)


# The outbox status of what a catch-up records: kept as an alert (a known value, a
# corroboration), never posted on its own; its catch-up message is.
CAUGHT_UP = "caught_up"
# The outbox status of what a poll queued beyond its cap (MONITOR_MAX_ALERTS_PER_POLL):
# kept as an alert (a known value, a corroboration), never posted on its own; the poll's
# summary message counts it.
SUMMARIZED = "summarized"

# The outbox status of what a quiet backfill records (`monitor backfill --quiet`): a known
# value or a report of one, never posted; later reports of its value are recorded so too.
RECORDED = "recorded"


class AlertRow(SQLModel, table=True):
    """The outbox: one row per message to deliver, sent in id order, exactly once."""

    __tablename__ = "alert"
    # For a watch's alerted values, read for every article with figures: without it, every
    # corroboration the watch ever had was scanned too.
    __table_args__ = (Index("ix_alert_watch_kind", "watch", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # idempotency key, also in the Slack message metadata
    kind: str  # change | corroboration | catch_up | poll_summary | feed_degraded | feed_recovered
    watch: str = Field(index=True)
    claim: str | None = Field(default=None, index=True)
    # A corroboration's change (its thread); a caught-up change's catch-up message; a
    # summarized change's summary message.
    parent_id: int | None = Field(default=None, foreign_key="alert.id")
    low: float | None = None  # the reported value, which becomes a known value of the claim
    high: float | None = None
    currency: str | None = None
    as_of: date | None = None
    payload: str  # JSON: everything the message shows
    channel: str | None = None
    # pending | sending | sent | failed; caught_up: recorded by a catch-up, never sent alone;
    # summarized: over its poll's cap, counted in the poll's summary message, never sent alone;
    # recorded: by a quiet backfill, never sent;
    # dismissed: a change a person dismissed before it was sent (and its replies)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None  # when a worker took it to send ("sending")
    claimed_by: str | None = None  # which worker took it: `delivery.worker_id`, name|host|pid
    ts: str | None = None  # Slack's message timestamp once sent
    corroborations: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # A change's decision: accepted (its value is on record) | dismissed (not a change) |
    # withdrawn (`replay --apply`: the rules no longer raise it);
    # set once, by a conditional update, so a decision Slack delivers twice applies once.
    decision: str | None = None


class DecisionRow(SQLModel, table=True):
    """What a person decided about an alert, who, when and from where: kept for good."""

    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    watch: str = Field(index=True)
    claim: str | None = None
    action: str  # accept | dismiss | retry | withdraw
    by: str  # a Slack user ("U024BE7LH alice") or a local one ("alice@host")
    via: str  # slack (interactivity URL) | socket_mode | cli | replay
    at: datetime = Field(default_factory=utcnow, index=True)
    # The value decided on, as the alert reported it (none for a retry).
    low: float | None = None
    high: float | None = None
    currency: str | None = None
    as_of: date | None = None
    text: str | None = None


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite configured for many threads writing."""
    if url.startswith("sqlite"):
        # Every transaction takes SQLite's one write lock (`_sqlite_on_begin`), so more
        # connections would add nothing but waiting: one connection, which the threads
        # queue for in the pool. SQLite's own wait is a sleep-and-retry loop, and each
        # connection keeps its own page cache, which a write by another connection throws
        # away. With 16 polling threads (bench/poll.py) queueing took about a fifth less
        # CPU, and the one cache about 40 MB less memory.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": _SQLITE_WAIT},
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=_SQLITE_WAIT,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_SQLITE_WAIT = 30  # seconds a transaction waits for the database before giving up


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transactions away from the driver, which starts none on SELECT and so loses
    # read-modify-write updates; `_sqlite_on_begin` starts them ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (f"busy_timeout={_SQLITE_WAIT * 1000}", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    # WAL is a property of the file: set once, by the first connection. Setting it waits
    # for no lock, so a process starting while another migrates a new file would fail with
    # "database is locked"; it only needs to see that the mode is already set.
    for attempt in range(50):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                break
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """One short transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        yield s


def insert_ignore(
    s: Session, model: type[SQLModel], values: dict[str, Any], keys: list[str]
) -> Any:
    """Insert a row unless one with the same `keys` exists; the new id, or None if it existed."""
    stmt = _insert_ignore_statement(s.get_bind().dialect.name, model, tuple(keys))
    return s.connection().execute(stmt, values).scalar()


@cache
def _insert_ignore_statement(dialect: str, model: type[SQLModel], keys: tuple[str, ...]) -> Any:
    # Built once, with the values bound at execution: building and coercing a statement
    # per row cost more than running it, on the hot path of storing articles.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    pk = next(iter(table.primary_key.columns))
    return insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(pk)


def check_database(engine: Engine) -> None:
    """Fail with a clear message when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise ConfigError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}. Check MONITOR_DATABASE_URL and that the server is running."
        ) from exc


MIGRATIONS = Path(__file__).with_name("migrations")
# Any command migrates first; on PostgreSQL several may start at once (replicas, a cron
# `monitor status`): one at a time, under a transaction-scoped advisory lock.
_MIGRATION_LOCK = int.from_bytes(b"fm:migr", "big")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the latest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str) -> Engine:
    """The engine for `url`, checked and migrated: what every command starts with."""
    engine = make_engine(url)
    check_database(engine)
    migrate(engine)
    return engine
