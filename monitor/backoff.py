"""When to poll a feed next: its own interval, stretched after failures. Pure; no jitter."""

from __future__ import annotations


def next_delay(
    every: float, failures: int, retry_after: float | None = None, cap: float = 6 * 3600
) -> float:
    """Seconds until the next poll.

    `failures` counts consecutive failed polls (0 after a success, which resets the
    backoff). A server that said Retry-After (429/503) is never polled sooner than asked;
    other failures double the interval each time, up to `cap` (never below `every`).
    """
    if failures <= 0:
        return every
    if retry_after is not None:
        return max(retry_after, every)
    # The exponent is bounded so a long outage cannot overflow the float.
    return max(every, min(cap, every * 2 ** min(failures, 64)))
