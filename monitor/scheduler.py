"""The one module that knows APScheduler: one schedule per feed, plus the delivery worker.

APScheduler 4 is an alpha and may be swapped out; nothing else imports it. A single
process keeps its schedules in memory (the SQLite store hit "database is locked");
replicas on PostgreSQL share a SQLAlchemy data store, whose leases make each run
happen on exactly one replica (docs/scaling.md).
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler import ConflictPolicy, Scheduler, TaskDefaults
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("monitor.scheduler")
FEED_PREFIX = "feed-"


def schedule_id(url: str) -> str:
    """A short, stable schedule id for a feed URL (the same on every replica)."""
    return FEED_PREFIX + hashlib.sha1(url.encode()).hexdigest()[:20]


class FeedScheduler:
    """Runs `poll(url)` for each feed at its interval, and `deliver()` every few seconds."""

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
            max_concurrent_jobs=32,
            lease_duration=lease,
            # One task runs every feed, so its default of 1 running job would poll one at a time.
            task_defaults=TaskDefaults(max_running_jobs=None, job_executor="threadpool"),
        )

    def start(self) -> None:
        s = self._scheduler
        s.configure_task("poll", func=self._poll, max_running_jobs=None)
        s.configure_task("deliver", func=self._deliver, max_running_jobs=1)
        s.add_schedule(
            "deliver",
            IntervalTrigger(seconds=self._delivery_every),
            id="deliver",
            conflict_policy=ConflictPolicy.do_nothing,
        )
        s.start_in_background()

    def set_feeds(self, feeds: dict[str, float]) -> None:
        """Schedule each feed URL at its interval (seconds); drop feeds no longer listed.

        A new feed first runs at a random offset within its interval, so that a hundred
        feeds do not all poll in the same second (APScheduler's jitter does not delay runs).
        """
        s = self._scheduler
        current = {x.id: x for x in s.get_schedules() if x.id.startswith(FEED_PREFIX)}
        wanted = {schedule_id(url): (url, every) for url, every in feeds.items()}
        for sid in current.keys() - wanted.keys():
            s.remove_schedule(sid)
        now = datetime.now(UTC)
        for sid, (url, every) in wanted.items():
            existing = current.get(sid)
            if existing is not None and _interval(existing) == every:
                continue
            start = now + timedelta(seconds=random.uniform(0, min(every, 60.0)))
            s.add_schedule(
                "poll",
                IntervalTrigger(seconds=every, start_time=start),
                id=sid,
                args=[url],
                conflict_policy=ConflictPolicy.replace,
                misfire_grace_time=timedelta(seconds=every),
            )
        log.info(
            "feeds scheduled",
            extra={"feeds": len(wanted), "removed": len(current.keys() - wanted.keys())},
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
        """No new runs; returns once the scheduler has stopped."""
        self._scheduler.stop()
        self._scheduler.wait_until_stopped()


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

    store = SQLAlchemyDataStore(database_url, schema="apscheduler")
    if event_broker and event_broker.startswith("redis"):
        from apscheduler.eventbrokers.redis import RedisEventBroker

        return store, RedisEventBroker(event_broker)
    from apscheduler.eventbrokers.psycopg import PsycopgEventBroker

    conninfo = event_broker or database_url.replace("postgresql+psycopg://", "postgresql://")
    return store, PsycopgEventBroker(conninfo)
