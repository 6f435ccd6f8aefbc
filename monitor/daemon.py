"""Wiring: settings, store, rules, fetcher, notifier, scheduler and signals. No logic of its own."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TextIO

from monitor import socket_mode, store
from monitor.delivery import deliver_pending, worker_id
from monitor.digest import queue_due
from monitor.errors import RulesErrors
from monitor.fetch import Fetcher
from monitor.health import serve
from monitor.interactions import Interactions
from monitor.metrics import Metrics
from monitor.notify import make_notifier
from monitor.observe import sync_claims
from monitor.poll import Context, PollResult, QuietPolls, poll_feed
from monitor.rules import Rules, load_rules
from monitor.scheduler import FeedScheduler, ReplicaLocks
from monitor.settings import Settings
from monitor.store import FeedState
from monitor.web.routes import Web

log = logging.getLogger("monitor.daemon")
STOP_GRACE = 10.0  # seconds in-flight polls get to finish after SIGTERM

_running: Daemon | None = None  # the daemon whose scheduled jobs are running in this process


def poll_job(url: str) -> None:
    """Scheduled job: poll one feed (a module-level function, so a shared job store can name it)."""
    if _running is not None:
        _running.poll(url)


def deliver_job() -> None:
    """Scheduled job: send pending alerts."""
    if _running is not None:
        _running.deliver()


def initialize(settings: Settings) -> Rules:
    """`monitor init`: schema, claims and, for replicas, the shared schedules; one at a time."""
    rules = load_rules(settings.rules, google_news_url=settings.google_news_url)
    locks = ReplicaLocks(settings.database_url if settings.shared else None)
    with locks.setup():
        engine = store.open_store(settings.database_url)
        try:
            sync_claims(engine, rules)
        finally:
            engine.dispose()
        if settings.shared:
            scheduler = _scheduler(settings, f"init-{socket.gethostname()}-{os.getpid()}")
            scheduler.prepare(rules.intervals())
            scheduler.stop()
    return rules


def _scheduler(settings: Settings, identity: str) -> FeedScheduler:
    # A dead replica's jobs wait out their lease before another replica may take them,
    # so the lease is short; but it must outlast a fetch (apscheduler's lease renewal is
    # not to be relied on in an alpha). Overlap is prevented by ReplicaLocks either way.
    lease = max(5.0, 2 * (settings.connect_timeout + settings.fetch_timeout))
    return FeedScheduler(
        poll_job,
        deliver_job,
        identity=identity,
        delivery_every=settings.delivery_every,
        database_url=settings.database_url if settings.shared else None,
        event_broker=settings.event_broker,
        lease=timedelta(seconds=lease),
    )


class Daemon:
    """One funding-monitor process. Construction checks everything that could stop it working."""

    def __init__(self, settings: Settings, *, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self.identity = settings.replica_id or f"{socket.gethostname()}-{os.getpid()}"
        # What its alert claims name: a restart on this host sees that this pid is gone.
        self.worker = worker_id(self.identity)
        rules = load_rules(settings.rules, google_news_url=settings.google_news_url)
        self.locks = ReplicaLocks(settings.database_url if settings.shared else None)
        self.notifier = make_notifier(
            bot_token=settings.slack_bot_token,
            channel=settings.slack_channel,
            webhook_url=settings.slack_webhook_url,
            api_url=settings.slack_api_url,
            interactive=settings.interactive,
            out=out,
        )
        self.notifier.check()
        self.fetcher = Fetcher.from_settings(settings)
        self.metrics = Metrics()
        # Kept across rules reloads, which replace the context: a poll still running on the
        # old context records into the same ones.
        self.quiet = QuietPolls()
        self.states: dict[str, FeedState] = {}
        with self.locks.setup():
            self.engine = store.open_store(settings.database_url)
            self.locks.claim_identity(self.identity)
            self.ctx = self._context(rules)
        self.socket_mode = socket_mode.from_settings(settings, self.engine)
        self._stop = threading.Event()
        self._reload = threading.Event()

    def _context(self, rules: Rules) -> Context:
        """A context for `rules`, with the claim table brought in step (under `locks.setup()`)."""
        ctx = Context(
            engine=self.engine,
            fetcher=self.fetcher,
            rules=rules,
            metrics=self.metrics,
            degraded_after=self.settings.degraded_after,
            full_text_budget=self.settings.full_text_budget,
            default_channel=self.settings.slack_channel,
            states=self.states,
            quiet=self.quiet,
            shared=self.settings.shared,
            max_alerts_per_poll=self.settings.max_alerts_per_poll,
        )
        sync_claims(self.engine, ctx.rules)
        return ctx

    def poll(self, url: str, *, force: bool = False) -> PollResult | None:
        ctx = self.ctx  # a reload swaps the whole context; a poll keeps the one it started with
        if url not in ctx.feeds() or self._stop.is_set():
            return None
        # Never two polls of one feed at once, in this process or on another replica.
        with self.locks.exclusive(f"feed:{url}") as free:
            if not free:
                log.info("poll skipped: still running", extra={"feed": url})
                return None
            try:
                return poll_feed(ctx, url, force=force)
            except Exception:
                log.exception("poll crashed", extra={"feed": url})
                return None

    def deliver(self, budget: float = 30.0) -> None:
        """One delivery pass, unless one is running here or on another replica.

        Alerts are claimed atomically, so two passes would not send one twice; one pass at
        a time keeps its pacing of posts per channel. Digests that are due are queued first.
        """
        self.queue_digests(store.utcnow())
        with self.locks.exclusive("delivery") as free:
            if free:
                self._deliver(budget)

    def queue_digests(self, now: datetime) -> list[str]:
        """Queue the watches' daily digests due at `now`; a failure waits for the next pass."""
        try:
            return queue_due(self.engine, self.ctx.rules, now, self.settings.slack_channel)
        except Exception:
            log.exception("digests not queued; trying again at the next delivery")
            return []

    def _deliver(self, budget: float) -> None:
        report = deliver_pending(
            self.engine,
            self.notifier,
            worker=self.worker,
            budget=budget,
            min_interval=self.notifier.min_interval,
        )
        for outcome in ("sent", "failed", "pending"):
            self.metrics.alerts.labels(outcome).inc(getattr(report, outcome))
        for latency in report.latencies:
            self.metrics.delivery_latency.observe(latency)

    def run_once(self) -> list[PollResult]:
        """Poll every feed once, concurrently, then deliver what is pending."""
        urls = list(self.ctx.feeds())
        with ThreadPoolExecutor(max_workers=16, thread_name_prefix="poll") as pool:
            results = [r for r in pool.map(lambda u: self.poll(u, force=True), urls) if r]
        self.quiet.flush(self.engine)
        self.deliver()
        return results

    def reload(self) -> bool:
        """Load the rules again; on any error keep the running ones and say why.

        Never raises: a SIGHUP must not stop the daemon (the README promises it keeps
        the running rules), whatever the files hold or the database answers.
        """
        try:
            rules = load_rules(self.settings.rules, google_news_url=self.settings.google_news_url)
            ctx = self._context(rules)
        except RulesErrors as exc:
            log.error("rules not reloaded; keeping the running rules:\n%s", exc)
            return False
        except Exception:
            log.exception(
                "rules not reloaded: an unexpected error (in the log below); keeping the "
                "running rules. Fix the cause, then send SIGHUP again"
            )
            return False
        self.ctx = ctx
        log.info(
            "rules reloaded", extra={"watches": len(rules.watches), "feeds": len(self.ctx.feeds())}
        )
        return True

    def _health(self, scheduler: FeedScheduler) -> str | None:
        if not scheduler.running:
            return "scheduler is not running"
        try:
            store.check_database(self.engine)
        except Exception as exc:
            return f"database: {exc}"
        return None

    def _wait_for_polls(self, seconds: float) -> None:
        """Until no poll runs in this process, for `seconds` at most."""
        deadline = time.monotonic() + seconds
        while self.locks.held and time.monotonic() < deadline:
            time.sleep(0.05)

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; reload the rules on SIGHUP."""
        global _running
        _running = self
        scheduler = _scheduler(self.settings, self.identity)
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        secret = self.settings.slack_signing_secret
        http = serve(
            self.settings.http_addr,
            lambda: self._health(scheduler),
            self.metrics,
            Interactions(self.engine, secret) if secret else None,
            Web(self.engine, lambda: self.ctx.rules),
        )
        if self.socket_mode:
            self.socket_mode.start()
        with self.locks.setup():
            scheduler.prepare(self.ctx.rules.intervals())
        scheduler.start()
        log.info(
            "started",
            extra={
                "identity": self.identity,
                "feeds": len(self.ctx.feeds()),
                "http": self.settings.http_addr,
            },
        )
        code = 0
        while not self._stop.wait(0.2):
            if self.quiet.due():
                self.quiet.flush(self.engine)
            if not scheduler.running:
                # APScheduler stops for good on some database errors; exiting lets the
                # supervisor (systemd, Docker) start a fresh replica.
                log.error("scheduler stopped by itself; exiting so that it can be restarted")
                code = 1
                break
            if self._reload.is_set():
                self._reload.clear()
                # One replica at a time brings the claims and the shared schedules in step.
                with self.locks.setup():
                    if self.reload():
                        scheduler.set_feeds(self.ctx.rules.intervals())
        log.info(
            "stopping: no new polls; waiting for those in flight", extra={"grace_s": STOP_GRACE}
        )
        if self.socket_mode:  # before the last delivery, which updates the messages decided
            self.socket_mode.close()
        scheduler.stop()
        self._wait_for_polls(STOP_GRACE)
        self.fetcher.close()  # cancels whatever is still fetching
        # A poll that had its response before the cancel may still be recording it.
        self._wait_for_polls(1.0)
        self.quiet.flush(self.engine)
        self.deliver(budget=5.0)
        self.locks.close()
        http.shutdown()
        _running = None
        log.info("stopped")
        return code
