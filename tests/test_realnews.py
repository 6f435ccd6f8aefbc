"""Attribution and alerts on labelled real reporting stay where `bench/realnews.py` measured them.

A guard against regressions, not a measure: the figures and their commands are in the README
("Measured"). The shared items are read in place from ../shared (skipped when absent); our
own sets of other stories live in bench/realnews/.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from monitor.rules import load_watch
from tests.needs import shared

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realnews_bench", ROOT / "bench" / "realnews.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _score(items: Path, rules: Path) -> tuple[float, float, float, int, int]:
    bench = _bench()
    lines = items.read_text(encoding="utf-8").splitlines()
    watch, _ = load_watch(rules)
    total = bench.score([json.loads(line) for line in lines if line], watch, False)["all"]
    p, r, f1 = total.prf()
    return p, r, f1, total.false_alerts, total.missed


def test_the_shared_real_reporting_meets_the_issue_bar() -> None:
    p, r, f1, false_alerts, missed = _score(
        shared("realnews", "items.jsonl"), ROOT / "rules" / "ai-chip-funding.yaml"
    )
    assert f1 >= 0.95, (p, r, f1)
    assert false_alerts <= 1
    assert missed == 0


SETS = ROOT / "bench" / "realnews"


@pytest.mark.parametrize(
    ("items", "rules", "least_f1", "most_false"),
    [
        (SETS / "ai-chip-funding.jsonl", ROOT / "rules" / "ai-chip-funding.yaml", 0.84, 4),
        (SETS / "chips-act.jsonl", SETS / "chips-act.yaml", 0.80, 16),
        (SETS / "japan-chips.jsonl", SETS / "japan-chips.yaml", 0.57, 10),
    ],
    ids=["seed-stories", "chips-act", "japan-chips"],
)
def test_our_sets_do_not_fall_back(
    items: Path, rules: Path, least_f1: float, most_false: int
) -> None:
    p, r, f1, false_alerts, _ = _score(items, rules)
    assert f1 >= least_f1, (p, r, f1)
    assert false_alerts <= most_false
