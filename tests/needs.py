"""What some tests need from outside the project: ../shared beside it, a PostgreSQL server.

On a fresh clone without them those tests skip, each with a one-line reason; `.ci/run` sets
MONITOR_TEST_STRICT=1, under which `tests/conftest.py` turns every skip into a failure, so CI
never passes by skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def need(ok: bool, reason: str) -> None:
    """Skip the test with `reason` unless `ok`."""
    if not ok:
        pytest.skip(reason)


def shared(*parts: str) -> Path:
    """A path under ../shared, read in place; the test skips when it is not there."""
    path = SHARED.joinpath(*parts)
    need(path.exists(), f"{path} is not here: these tests read ../shared in place")
    return path
