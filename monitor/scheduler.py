"""Who runs what, when: one schedule per feed, the delivery worker, and replicas taking turns.

This is the one module that knows APScheduler (an alpha that may be swapped out). A single
process keeps its schedules in memory: APScheduler's SQLite store hit "database is locked".
Replicas on PostgreSQL share APScheduler's SQLAlchemy data store: each fire of a schedule
becomes one job, leased to one replica with SELECT ... FOR UPDATE SKIP LOCKED.

What 4.0.0a6 does not promise is added with PostgreSQL session advisory locks
(`ReplicaLocks`), which the server drops with the connection of a replica that dies: one
setup at a time (tables, claims, schedules), one poll of a feed at a time, one delivery
pass at a time, one live replica per identity. See docs/scaling.md.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler import ConflictPolicy, Scheduler, TaskDefaults
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from monitor.errors import ConfigError

log = logging.getLogger("monitor.scheduler")
FEED_PREFIX = "feed-"
SCHEMA = "apscheduler"  # the data store's tables live beside ours, in their own schema


def schedule_id(url: str) -> str:
    """A short, stable schedule id for a feed URL (the same on every replica)."""
    return FEED_PREFIX + hashlib.sha1(url.encode()).hexdigest()[:20]


class FeedScheduler:
    """Runs `poll(url)` for each feed at its interval, and `deliver()` every few seconds.

    `prepare()` creates the data store's tables, the tasks and the schedules; in shared mode
    call it under `ReplicaLocks.setup()`, since concurrent creation killed replicas.
    """

    def __init__(
        self,
        poll: Callable[[str], Any],
        deliver: Callable[[], Any],
        *,
        identity: str,
        delivery_every: float = 2.0,
        database_url: str | None = None,
        event_broker: str | None = None,
        lease: timedelta = timedelta(seconds=90),
    ) -> None:
        self._poll = poll
        self._deliver = deliver
        self._delivery_every = delivery_every
        data_store, broker = _shared_backends(database_url, event_broker)
        self.shared = database_url is not None
        self._scheduler = Scheduler(
            data_store or MemoryDataStore(),
            broker,
            identity=identity,
            # Each running poll may hold one of our pooled connections: 16 keeps three
            # replicas well within PostgreSQL's default 100 connections.
            max_concurrent_jobs=16,
            lease_duration=lease,
            # No limit per task: one task runs every feed, and after a kill -9 the stored
            # running-jobs count stays too high for good (apscheduler#1110). Turns are
            # taken with ReplicaLocks instead.
            task_defaults=TaskDefaults(max_running_jobs=None, job_executor="threadpool"),
        )
        self._services = ExitStack()
        self._entered = False

    def prepare(self, feeds: dict[str, float]) -> None:
        """Create the store's tables (if missing), the two tasks and every schedule."""
        s = self._scheduler
        if not self._entered:
            self._services.enter_context(s)  # starts the data store and broker, not the jobs
            self._entered = True
        s.configure_task("poll", func=self._poll, max_running_jobs=None)
        s.configure_task("deliver", func=self._deliver, max_running_jobs=None)
        s.add_schedule(
            "deliver",
            IntervalTrigger(seconds=self._delivery_every),
            id="deliver",
            conflict_policy=ConflictPolicy.do_nothing,
        )
        self.set_feeds(feeds)

    def start(self) -> None:
        """Start running jobs, in background threads."""
        self._scheduler.start_in_background()

    def set_feeds(self, feeds: dict[str, float]) -> None:
        """Schedule each feed URL at its interval (seconds); drop feeds no longer listed.

        A new feed first runs at a random offset within its interval, so that a hundred
        feeds do not all poll in the same second (APScheduler's jitter does not delay runs).
        A changed interval is a removal and an addition: in 4.0.0a6, ConflictPolicy.replace
        lost schedules that another replica was processing.
        """
        s = self._scheduler
        current = {x.id: x for x in s.get_schedules() if x.id.startswith(FEED_PREFIX)}
        wanted = {schedule_id(url): (url, every) for url, every in feeds.items()}
        stale = {
            sid for sid, x in current.items() if sid in wanted and _interval(x) != wanted[sid][1]
        }
        for sid in (current.keys() - wanted.keys()) | stale:
            s.remove_schedule(sid)
        now = datetime.now(UTC)
        added = 0
        for sid, (url, every) in wanted.items():
            if sid in current and sid not in stale:
                continue
            start = now + timedelta(seconds=random.uniform(0, min(every, 60.0)))
            s.add_schedule(
                "poll",
                IntervalTrigger(seconds=every, start_time=start),
                id=sid,
                args=[url],
                conflict_policy=ConflictPolicy.do_nothing,
                # A run that cannot start within its interval is dropped, not run late:
                # a backlog never turns into a burst of polls.
                misfire_grace_time=timedelta(seconds=every),
            )
            added += 1
        log.info(
            "feeds scheduled",
            extra={
                "feeds": len(wanted),
                "added": added,
                "removed": len(current.keys() - wanted.keys()),
            },
        )

    def next_runs(self) -> dict[str, datetime | None]:
        """Feed URL -> next scheduled poll."""
        return {
            str(x.args[0]): x.next_fire_time
            for x in self._scheduler.get_schedules()
            if x.id.startswith(FEED_PREFIX) and x.args
        }

    @property
    def running(self) -> bool:
        return self._scheduler.state.name == "started"

    def stop(self) -> None:
        """No new runs; returns once the scheduler and its connections are closed."""
        self._scheduler.stop()
        self._scheduler.wait_until_stopped()
        self._services.close()


def _interval(schedule: Any) -> float | None:
    trigger = schedule.trigger
    if isinstance(trigger, IntervalTrigger):
        t = trigger
        return timedelta(
            weeks=t.weeks, days=t.days, hours=t.hours, minutes=t.minutes, seconds=t.seconds
        ).total_seconds()
    return None


def _shared_backends(database_url: str | None, event_broker: str | None) -> tuple[Any, Any]:
    """The PostgreSQL data store and its event broker, for replicas sharing the work."""
    if database_url is None:
        return None, None
    from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
    from sqlalchemy.ext.asyncio import create_async_engine

    # A small pool of its own: the default (5 + 10 overflow) per replica, beside ours,
    # ran three replicas into "too many clients", which stopped their schedulers.
    engine = create_async_engine(database_url, pool_size=2, max_overflow=3)
    store = SQLAlchemyDataStore(engine, schema=SCHEMA)
    # Dispose of it on the scheduler's own event loop when the store stops, as the store
    # does with an engine it made itself (4.0.0a6 has no public switch for it).
    store._close_on_exit = True
    if event_broker and event_broker.startswith("redis"):
        from apscheduler.eventbrokers.redis import RedisEventBroker

        return store, RedisEventBroker(event_broker)
    from apscheduler.eventbrokers.psycopg import PsycopgEventBroker

    return store, PsycopgEventBroker(event_broker or libpq_conninfo(database_url))


def libpq_conninfo(database_url: str) -> str:
    """`postgresql+psycopg://...` as libpq takes it (no driver name)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ReplicaLocks:
    """Keys held by at most one thread of one replica at a time.

    Without a database URL (one process) a set in memory does it. With PostgreSQL the keys
    are also session advisory locks on one connection, so the server releases them the
    moment a replica's connection goes, even after kill -9. Advisory locks are re-entrant
    within a session, which is why the set is checked first.
    """

    def __init__(self, database_url: str | None = None) -> None:
        self._conninfo: str | None = libpq_conninfo(database_url) if database_url else None
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._conn: Any = None  # psycopg.Connection, opened on first use
        self._identity: str | None = None

    @property
    def held(self) -> int:
        """How many keys this replica holds now (polls and deliveries in flight)."""
        with self._lock:
            return len(self._held)

    def claim_identity(self, identity: str) -> None:
        """Hold `identity` while this replica lives; ConfigError if a live replica has it.

        Two replicas with one identity would take each other's leases and reap each
        other's running jobs as abandoned.
        """
        with self._lock:
            if not self._try_lock(f"identity:{identity}"):
                raise ConfigError(
                    f'another replica is running as "{identity}" on this database. '
                    "Give each replica its own MONITOR_REPLICA_ID."
                )
            self._identity = identity

    @contextmanager
    def exclusive(self, key: str) -> Iterator[bool]:
        """Yields whether `key` was free and is now ours; it is released on exit."""
        with self._lock:
            free = key not in self._held and self._try_lock(key)
            if free:
                self._held.add(key)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._held.discard(key)
                    self._unlock(key)

    @contextmanager
    def setup(self) -> Iterator[None]:
        """Wait for, then hold, the one setup turn: schema, claims and schedules change here.

        It uses a connection of its own, so that waiting never holds up `exclusive()`.
        """
        if self._conninfo is None:
            yield
            return
        with self._connect() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_lock_id("setup"),))
            yield  # closing the connection releases the lock, on error too

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _try_lock(self, key: str) -> bool:
        if self._conninfo is None:
            return True
        import psycopg

        try:
            row = (
                self._connection()
                .execute("SELECT pg_try_advisory_lock(%s)", (_lock_id(key),))
                .fetchone()
            )
        except (psycopg.Error, ConfigError) as exc:
            # Fail closed: a poll or a delivery skipped is better than one run twice.
            log.warning("advisory lock unavailable", extra={"key": key, "error": str(exc)})
            self._drop()
            return False
        return bool(row and row[0])

    def _unlock(self, key: str) -> None:
        if self._conninfo is None:
            return
        import psycopg

        try:
            self._connection().execute("SELECT pg_advisory_unlock(%s)", (_lock_id(key),))
        except (psycopg.Error, ConfigError) as exc:
            log.warning("advisory unlock failed", extra={"key": key, "error": str(exc)})
            self._drop()

    def _connection(self) -> Any:
        """The lock connection, opened again after a failure (the old locks died with it)."""
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = self._connect()
        # A replica whose host vanishes (no FIN) keeps its locks until TCP notices;
        # these make the server notice within about half a minute.
        for name, value in (
            ("tcp_keepalives_idle", 10),
            ("tcp_keepalives_interval", 5),
            ("tcp_keepalives_count", 3),
        ):
            self._conn.execute(f"SET {name} = {value}")
        if self._identity is not None:  # a reconnection: what the old connection held is gone
            if self._held:
                log.error("lock connection lost; feeds in flight may be polled twice")
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (_lock_id(f"identity:{self._identity}"),)
            ).fetchone()
            if not (row and row[0]):
                log.error("identity taken by another replica", extra={"identity": self._identity})
        return self._conn

    def _connect(self) -> Any:
        import psycopg

        assert self._conninfo is not None
        try:
            return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            where = make_url(self._conninfo).render_as_string(hide_password=True)
            raise ConfigError(
                f"cannot reach the database at {where}: {exc}. "
                "Check MONITOR_DATABASE_URL and that the server is running."
            ) from exc

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for `key`, namespaced so other apps' ids do not clash."""
    digest = hashlib.blake2b(f"funding-monitor:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
