"""When to poll next: the feed's own interval, Retry-After, or exponential backoff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.backoff import next_delay


def test_success_polls_at_the_feed_interval():
    assert next_delay(300, 0) == 300
    assert next_delay(300, 0, retry_after=9999) == 300  # failures reset: an old hint is stale


@pytest.mark.parametrize(("failures", "delay"), [(1, 600), (2, 1200), (3, 2400), (6, 19200)])
def test_failures_double_the_interval(failures, delay):
    assert next_delay(300, failures) == delay


def test_backoff_is_capped():
    assert next_delay(300, 7) == 6 * 3600
    assert next_delay(300, 10_000) == 6 * 3600
    assert next_delay(60, 3, cap=300) == 300


def test_retry_after_is_honoured_but_never_sooner_than_the_interval():
    assert next_delay(300, 1, retry_after=3600) == 3600
    assert next_delay(300, 4, retry_after=10) == 300


def test_interval_longer_than_cap_is_kept():
    assert next_delay(8 * 3600, 2) == 8 * 3600


@given(
    every=st.floats(1, 86_400),
    failures=st.integers(0, 5_000),
    retry_after=st.none() | st.floats(0, 86_400),
)
def test_delay_is_never_below_the_interval(every, failures, retry_after):
    delay = next_delay(every, failures, retry_after)
    assert delay >= every
    if retry_after is None:
        assert delay <= max(every, 6 * 3600)
