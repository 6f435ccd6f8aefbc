"""Sentences per second of reading money figures, on one news-like mix (most sentences hold
no money, as in a real feed), all measured in one run:

- `monitor extract --json FILE` as a whole process (start-up, reading, JSON, writing);
- `monitor.figures.extract` alone, in this process;
- quantulum3's `parser.parse`, in this process, on `--quantulum` sentences of the mix each
  round (it reads about a thousand a second, so the whole mix would take minutes).

Each round times the three back to back; ratios are taken within a round, and each figure
is the median over the rounds, in wall-clock time and per CPU second.

Run: .venv/bin/python bench/extract_speed.py [--sentences N] [--quantulum N] [--rounds N]
Targets: the whole process at least 50,000 sentences/s, and at least 50x quantulum3.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parents[1]))

from monitor.figures import extract

# No money: plain prose, years, percentages, counts, model names, ranks.
_PLAIN = [
    "The company said on Tuesday that it would open a new research centre in {city}.",
    "Shares rose {n}% in early trading after the announcement in {year}.",
    "The chipmaker plans to build {n} fabs by {year}, according to people familiar with it.",
    "Analysts expect demand for H100 accelerators to stay strong through {year}.",
    "More than {n},000 engineers attended the conference in {city} last week.",
    "The firm ranked 1st in the survey for the {n}th year in a row.",
    "Officials declined to comment on the talks, which began in {year}.",
    "샘 알트먼은 AI 칩의 공급 제한으로 인해 성장이 방해되고 있다고 주장했다.",
    "삼성전자는 {year}년까지 {n}개의 공장을 더 짓겠다고 밝혔다.",
    "엔비디아는 AI 반도체 시장에서 {n}% 점유율을 보유하고 있습니다.",
    "이사회는 그의 계획을 이해하지 못했고 소통이 부족했다고 설명했다.",
    "연구원들은 {n}배 빠른 3nm 공정을 시연했다.",
    "정부는 지원 대책을 다음 달 발표할 예정이라고 밝혔다.",
]
# Money, in the forms news uses.
_MONEY = [
    "The project needs ${n} trillion to ${m} trillion, Altman told investors.",
    "It raised ${n}.5bn in a round led by {city} investors.",
    "The deal is worth about {n} billion euros (${m} billion).",
    "The budget was cut from ${m} billion to ${n} billion in {year}.",
    "이 프로젝트는 {n}조 달러에서 {m}조 달러의 자금이 필요하다.",
    "정부는 {year}년까지 {n}22조원을 투자하기로 했다.",
    "회사는 1조 {n}천억 원 규모의 투자를 발표했다.",
    "수조 달러의 투자를 모으고 있다고 보도됐다.",
]
_CITIES = ["Seoul", "London", "Austin", "Taipei", "Abu Dhabi", "Tokyo"]


def corpus(n: int, money_share: float = 0.15, seed: int = 0) -> list[str]:
    """A fixed pseudo-random mix: `money_share` of the sentences carry a figure."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = _MONEY if rng.random() < money_share else _PLAIN
        a, b = sorted(rng.sample(range(1, 10), 2))
        out.append(
            rng.choice(pool).format(
                n=a, m=b, year=rng.randint(1990, 2040), city=rng.choice(_CITIES)
            )
        )
    return out


class Speed(NamedTuple):
    """Sentences per second of wall-clock time, and per CPU second (user and system): the
    second moves less when others load the machine."""

    wall: float
    cpu: float


def rate(fn: Callable[[str], object], sentences: list[str]) -> Speed:
    """`fn` on every sentence, in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    for s in sentences:
        fn(s)
    return Speed(
        len(sentences) / (time.perf_counter() - wall),
        len(sentences) / (time.process_time() - cpu),
    )


def process_rate(command: list[str], source: Path, sentences: int) -> Speed:
    """One run of `monitor extract --json source`, from start to exit, output to a file."""
    result = source.with_suffix(".jsonl")
    with result.open("wb") as out:
        cpu, wall = _children_cpu(), time.perf_counter()
        subprocess.run([*command, "extract", "--json", str(source)], stdout=out, check=True)
        speed = Speed(sentences / (time.perf_counter() - wall), sentences / (_children_cpu() - cpu))
    with result.open("rb") as out:
        lines = sum(1 for _ in out)
    assert lines == sentences, f"{lines} JSON lines for {sentences} sentences"
    return speed


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sentences", type=int, default=100_000)
    ap.add_argument(
        "--quantulum", type=int, default=2_000, help="sentences quantulum3 reads a round"
    )
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from quantulum3 import parser

    sentences = corpus(args.sentences)
    with_money = sum(bool(extract(s)) for s in sentences)
    parser.parse(sentences[0])  # load quantulum3's models before timing
    script = shutil.which("monitor", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-c", "from monitor.cli import app; app()"]
    rounds: list[tuple[Speed, Speed, Speed]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.txt"
        source.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        # Each round times all three back to back, so that a ratio compares like with like.
        for i in range(args.rounds):
            theirs = sentences[i * args.quantulum : (i + 1) * args.quantulum]
            rounds.append(
                (
                    process_rate(command, source, len(sentences)),
                    rate(extract, sentences),
                    rate(parser.parse, theirs),
                )
            )

    print(f"{len(sentences):,} sentences, {with_money:,} with a figure (ours); medians of ", end="")
    print(f"{args.rounds} rounds (quantulum3 reads {args.quantulum:,} sentences a round)")
    print(f"{'sentences/s':<26}{'wall clock':>12}{'per CPU s':>12}")
    names = ("monitor extract --json", "extract() in process", "quantulum3")
    for k, name in enumerate(names):
        wall, cpu = (statistics.median(getattr(r[k], c) for r in rounds) for c in Speed._fields)
        print(f"{name:<26}{wall:>12,.0f}{cpu:>12,.0f}")
    ratios = {}
    for k, name in enumerate(names[:2]):
        ratios[k] = [
            statistics.median(getattr(r[k], c) / getattr(r[2], c) for r in rounds)
            for c in Speed._fields
        ]
        print(f"{name + ' / quantulum3':<26}{ratios[k][0]:>11,.1f}x{ratios[k][1]:>11,.1f}x")
    print("process, each round (wall):", ", ".join(f"{r[0].wall:,.0f}/s" for r in rounds))
    for c, clock in enumerate(Speed._fields):
        speed = statistics.median(getattr(r[0], clock) for r in rounds)
        met = speed >= 50_000 and ratios[0][c] >= 50
        print(f"whole process >= 50,000/s and >= 50x, {clock}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
