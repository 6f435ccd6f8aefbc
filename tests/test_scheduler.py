"""How replicas take turns (ReplicaLocks) and how the shared schedule set converges."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from monitor.errors import ConfigError
from monitor.scheduler import FeedScheduler, ReplicaLocks, schedule_id

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def test_one_process_holds_a_key_once() -> None:
    locks = ReplicaLocks()
    with locks.exclusive("feed:a") as first, locks.exclusive("feed:a") as second:
        assert (first, second) == (True, False)
        assert locks.held == 1
    with locks.exclusive("feed:a") as again:
        assert again
    assert locks.held == 0


@postgres_only
def test_a_key_is_held_by_one_replica_at_a_time(database_url: str) -> None:
    one, two = ReplicaLocks(database_url), ReplicaLocks(database_url)
    try:
        with one.exclusive("feed:a") as mine:
            assert mine
            with two.exclusive("feed:a") as theirs, two.exclusive("feed:b") as other:
                assert (theirs, other) == (False, True)
        with two.exclusive("feed:a") as theirs:
            assert theirs, "a released key stays locked"
    finally:
        one.close()
        two.close()


@postgres_only
def test_a_second_live_replica_with_the_same_identity_is_refused(database_url: str) -> None:
    one, two = ReplicaLocks(database_url), ReplicaLocks(database_url)
    try:
        one.claim_identity("replica-1")
        with pytest.raises(ConfigError, match="MONITOR_REPLICA_ID"):
            two.claim_identity("replica-1")
        two.claim_identity("replica-2")
        one.close()
        ReplicaLocks(database_url).claim_identity("replica-1")  # free once its holder is gone
    finally:
        one.close()
        two.close()


@postgres_only
def test_the_keys_of_a_killed_replica_are_free_at_once(database_url: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from monitor.scheduler import ReplicaLocks
                locks = ReplicaLocks({database_url!r})
                with locks.exclusive("feed:a") as mine:
                    assert mine
                    print("held", flush=True)
                    time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    locks = ReplicaLocks(database_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with locks.exclusive("feed:a") as mine:
            assert not mine
        holder.kill()  # SIGKILL: no cleanup runs in the holder
        holder.wait(timeout=10)
        with locks.exclusive("feed:a") as mine:
            assert mine, "the lock outlived the replica that held it"
    finally:
        if holder.poll() is None:
            holder.kill()
        locks.close()


@postgres_only
def test_the_shared_schedule_set_follows_the_rules(database_url: str) -> None:
    """A later set_feeds (a reload) adds, drops and re-times feeds in the shared store."""
    first = FeedScheduler(
        print, print, identity="test-1", database_url=database_url, delivery_every=5
    )
    first.prepare({"http://x/a": 60.0, "http://x/b": 60.0})
    second = FeedScheduler(
        print, print, identity="test-2", database_url=database_url, delivery_every=5
    )
    try:
        second.prepare({"http://x/a": 60.0, "http://x/b": 60.0})  # does nothing: already there
        assert set(second.next_runs()) == {"http://x/a", "http://x/b"}
        before = second.next_runs()["http://x/a"]
        second.set_feeds({"http://x/a": 60.0, "http://x/c": 120.0})
        assert set(first.next_runs()) == {"http://x/a", "http://x/c"}
        assert first.next_runs()["http://x/a"] == before, "an unchanged feed was rescheduled"
        second.set_feeds({"http://x/a": 30.0, "http://x/c": 120.0})
        [a] = [x for x in first._scheduler.get_schedules() if x.id == schedule_id("http://x/a")]
        assert getattr(a.trigger, "seconds", None) == 30
    finally:
        first.stop()
        second.stop()
