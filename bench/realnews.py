"""Attribution and alerts on real reporting, in process: the deciding stages alone.

Run: .venv/bin/python bench/realnews.py [ITEMS.jsonl RULES.yaml]... [-v] [--runner]

Each pair is a file of labelled real news items (the shape of ../shared/realnews/items.jsonl:
every money figure with its value, currency and the claim it states, or null) and the watch
they are scored against. Defaults: ../shared/realnews/ with rules/ai-chip-funding.yaml, and
each bench/realnews/WATCH.jsonl with the WATCH.yaml beside it (other stories), or with the
shipped rules/WATCH.yaml (held-out items of the seed's stories); all labelled by us from
public pages, sources in bench/realnews/SOURCES.md.

The items go through `extract`, `attribute` and `compare` oldest first, as the daemon decides
them, with no database, feed or Slack: seconds instead of a minute, for working on the rules.
It scores as ../shared/realnews/run.py does: an observation is right when a labelled figure of
that claim in that article has its value (within 0.5%) and currency; a change alert is false
when its value is labelled for that claim nowhere; a labelled value outside the claim's stated
values that neither alerted nor matched an alert is missed. `--runner` also runs the shared
runner, which drives the real CLI, feeds and a fake Slack (about a minute).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.attribution import explain  # noqa: E402
from monitor.diff import KnownValue, compare, known_values  # noqa: E402
from monitor.figures import Figure, extract  # noqa: E402
from monitor.rules import Watch, load_watch  # noqa: E402

SHARED = ROOT.parent / "shared" / "realnews"
# The shared items against the seed watch, then each set of ours: WATCH.jsonl against the
# WATCH.yaml beside it, or against the shipped rules/WATCH.yaml (held-out items of its stories).
DEFAULT_SETS = [
    (SHARED / "items.jsonl", ROOT / "rules" / "ai-chip-funding.yaml"),
    *(
        (items, items.with_suffix(".yaml"))
        if items.with_suffix(".yaml").exists()
        else (items, ROOT / "rules" / items.with_suffix(".yaml").name)
        for items in sorted((ROOT / "bench" / "realnews").glob("*.jsonl"))
    ),
]
VALUE_TOL = 0.005


@dataclass
class Score:
    labels: int = 0  # labelled figures of a claim, not optional
    found: int = 0  # of those, observed for their claim
    observed: int = 0  # observations made
    false: int = 0  # observations matching no label of their claim
    alerts: int = 0
    false_alerts: int = 0
    missed: int = 0

    def prf(self) -> tuple[float, float, float]:
        p = (self.observed - self.false) / self.observed if self.observed else 1.0
        r = self.found / self.labels if self.labels else 1.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0


def _optional(label: dict) -> bool:
    return bool(label.get("conversion") or label.get("vague") or label.get("no_currency"))


def _same(figure: Figure, label: dict) -> bool:
    def close(a: float, b: float) -> bool:
        return abs(a - b) <= VALUE_TOL * max(abs(a), abs(b), 1e-9)

    return (
        figure.currency == label["currency"]
        and close(figure.low, label["low"])
        and close(figure.high, label["high"])
    )


def score(items: list[dict], watch: Watch, verbose: bool) -> dict[str, Score]:
    """Scores overall ("all"), per language and per claim, printing mistakes when verbose."""
    scores: dict[str, Score] = defaultdict(Score)
    known: dict[str, list[KnownValue]] = {c.id: known_values(c) for c in watch.claims}
    claims = {c.id: c for c in watch.claims}
    labelled = defaultdict(list)
    for item in items:
        for label in item["figures"]:
            if label["claim"]:
                labelled[label["claim"]].append(label)
    fates: dict[tuple[str, str, float, float], str] = {}
    for item in sorted(items, key=lambda i: (i["published"], i["id"])):
        on = date.fromisoformat(item["published"][:10])
        text = f"{item['title']}\n{item['summary']}"
        figures = extract(text)
        used: set[int] = set()
        decisions = explain(watch, item["title"], text, figures)
        item["_decisions"] = decisions
        for decision in decisions:
            if decision.claim is None:
                continue
            figure, claim = decision.figure, claims[decision.claim]
            labels = sorted(
                (lb for lb in item["figures"] if lb["claim"] == claim.id),
                key=lambda lb: (lb["text"] != figure.text, _optional(lb)),
            )
            hit = next((lb for lb in labels if id(lb) not in used and _same(figure, lb)), None)
            right = hit is not None or any(_same(figure, lb) for lb in labels)
            if hit is not None:
                used.add(id(hit))
                hit["_found"] = True
            for key in ("all", item["lang"], claim.id):
                scores[key].observed += 1
                scores[key].false += not right
            if not right and verbose:
                print(f"  FALSE [{item['id']}] {claim.id} <- {figure.text!r}: {decision.why}")
                print(f"      {decision.quote}")
            verdict = compare(figure, on, known[claim.id], claim.tolerance)
            value = (claim.id, figure.currency, figure.low, figure.high)
            if verdict.outcome == "change":
                known[claim.id].append(
                    KnownValue(figure.low, figure.high, figure.currency, on, figure.text, "k")
                )
                fates[value] = "alert"
                good = any(_same(figure, lb) for lb in labelled[claim.id])
                for key in ("all", claim.id):
                    scores[key].alerts += 1
                    scores[key].false_alerts += not good
                if verbose:
                    print(
                        f"  ALERT{'' if good else ' FALSE'} [{item['id']}] {claim.id} <- "
                        f"{figure.text!r}"
                    )
    for item in items:
        for label in item["figures"]:
            if label["claim"] and not _optional(label):
                for key in ("all", item["lang"], label["claim"]):
                    scores[key].labels += 1
                    scores[key].found += bool(label.get("_found"))
                if not label.get("_found") and verbose:
                    print(f"  MISSED [{item['id']}] {label['claim']} <- {label['text']!r}")
                    for d in item["_decisions"]:
                        if d.figure.text == label["text"]:
                            why = dict(d.rejected).get(label["claim"], d.why)
                            print(f"      {why} | {d.quote[:150]}")
    scores["all"].missed = _missed(items, watch, known)
    return scores


def _missed(items: list[dict], watch: Watch, known: dict[str, list[KnownValue]]) -> int:
    """Distinct labelled values outside a claim's stated values that no alert covers."""
    missed = set()
    for item in items:
        on = date.fromisoformat(item["published"][:10])
        for label in item["figures"]:
            claim = next((c for c in watch.claims if c.id == label["claim"]), None)
            if claim is None or _optional(label):
                continue
            figure = Figure(label["text"], 0, 0, label["low"], label["high"], label["currency"])
            stated = compare(figure, on, known_values(claim), claim.tolerance)
            if stated.outcome != "change":
                continue
            if compare(figure, on, known[claim.id], claim.tolerance).outcome == "change":
                missed.add((claim.id, label["currency"], label["low"], label["high"]))
    return len(missed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="ITEMS.jsonl RULES.yaml pairs")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mistake")
    parser.add_argument("--runner", action="store_true", help="run ../shared/realnews/run.py too")
    args = parser.parse_args()
    if len(args.files) % 2:
        parser.error("give items and rules in pairs")
    pairs = list(zip(args.files[::2], args.files[1::2], strict=True)) or DEFAULT_SETS
    status = 0
    for items_path, rules_path in pairs:
        if not items_path.exists():
            print(f"{items_path}: not here, skipped")
            continue
        items = [json.loads(line) for line in items_path.read_text("utf-8").splitlines() if line]
        watch, _ = load_watch(rules_path)
        print(f"== {items_path} ({len(items)} items) against {rules_path.name}")
        scores = score(items, watch, args.verbose)
        print(
            f"{'':24}{'labels':>7}{'found':>6}{'obs':>5}{'false':>6}{'P':>6}{'R':>6}{'F1':>6}"
            f"{'alerts':>7}{'false':>6}"
        )
        for key in ["all", "en", "ko", *(c.id for c in watch.claims)]:
            s = scores[key]
            p, r, f1 = s.prf()
            print(
                f"{key:24}{s.labels:>7}{s.found:>6}{s.observed:>5}{s.false:>6}"
                f"{p:>6.2f}{r:>6.2f}{f1:>6.2f}{s.alerts:>7}{s.false_alerts:>6}"
            )
        total = scores["all"]
        p, r, f1 = total.prf()
        print(
            f"{items_path.stem}: attribution P={p:.2f} R={r:.2f} F1={f1:.2f}; alerts: "
            f"{total.alerts} sent, {total.false_alerts} false, {total.missed} missed"
        )
    if args.runner:
        runner = SHARED / "run.py"
        monitor = Path(sys.executable).with_name("monitor")
        status = subprocess.run([sys.executable, str(runner), str(monitor)], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
