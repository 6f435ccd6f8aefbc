"""`monitor demo`: the README's first command alerts exactly the changes its recorded news holds.

The expectations come from what each recorded item was written to show (see news.json),
not from a copy of the demo's output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.demo import feed_path, load_news, render_feeds, watch_text
from monitor.googlenews import strip_publisher
from monitor.parse import parse_feed
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
SEED_RULES = ROOT / "rules" / "ai-chip-funding.yaml"

# (claim, reported value as the summary writes it): the later figures the news is built around.
EXPECTED_CHANGES = {
    ("chip-venture-target", "$8 trillion"),  # Altman's "why not 8", reported as an $8T target
    ("samsung-us-fabs", "$44 billion"),  # April 2024: Texas investment raised to $44bn
    ("samsung-us-fabs", "$37 billion"),  # December 2024: trimmed to $37bn from $44bn
    ("nvidia-arm-deal", "$66 billion"),  # the Arm deal's value at its peak
}
# Items that restate a value on record, in either language: none may alert.
UNCHANGED_TITLES = [
    "Sam Altman Seeks Trillions of Dollars to Reshape Business of Chips and AI",
    "OpenAI's Altman pitches investors on a chip plan that could need up to $7 trillion",
    "Altman tells Dubai summit the world needs far more AI chips",
    "올트먼, AI 반도체 공급망에 최대 7조 달러 투자 유치 추진",
    "올트먼 'AI 반도체에 7조 달러 필요'…업계 \"현실성 의문\"",
    "'9천조 원' 올트먼 구상에 반도체주 들썩",
    "South Korea plans a 622 trillion won chip 'mega cluster' near Seoul",
    "정부, 2047년까지 622조원 투입해 반도체 메가 클러스터 조성",
    "반도체 메가 클러스터 622조 투자…16개 팹 신설",
    "Nvidia to buy chip designer Arm from SoftBank for $40 billion",
    "엔비디아, 소프트뱅크서 ARM 400억 달러에 인수",
    "Nvidia officially calls off its $40 billion Arm acquisition",
]
# Items that name a watched entity and money, but no claim's figure.
NOISE_TITLES = [
    "Nvidia's quarterly revenue triples to $22.1 billion on AI chip demand",
    "엔비디아 4분기 매출 221억 달러…1년 새 3배",
    "Nvidia adds $277 billion in market value, a record one-day gain",
    "TSMC to get $6.6 billion US grant and lift Arizona investment to $65 billion",
    "SoftBank's Vision Fund swings back to a loss as tech valuations slide",
    "소프트뱅크 비전펀드, 7~9월 1조4000억 엔 손실",
    "Microsoft closes above $3 trillion market value for the first time",
    "삼성전자 1분기 영업이익 6조6000억원…반도체 흑자 전환",
    "Sora is OpenAI's new text-to-video model",
]

_CLAIM_LINE = re.compile(r"^  ([a-z0-9][a-z0-9_-]*): .+? \(\d{4}-\d{2}-\d{2}\) -> (.+)$")
_REPORTED = re.compile(r"^(.+) \((\d{4}-\d{2}-\d{2}), (.+)\)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One `monitor demo` run, in an environment set up to send it anywhere but the demo.

    A Slack token aimed at a closed port, a database and rules that do not exist, and a
    `.env` in the working directory: if any reached the demo it would fail.
    """
    cwd = tmp_path_factory.mktemp("demo-cwd")
    (cwd / ".env").write_text("MONITOR_DATABASE_URL=sqlite:////nonexistent/dotenv.db\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-must-not-be-used",
        "SLACK_CHANNEL": "#must-not-be-used",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "MONITOR_DATABASE_URL": "sqlite:////nonexistent/env.db",
        "MONITOR_RULES": "/nonexistent/rules",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-c", "from monitor.cli import app; app()", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def _changes(stdout: str) -> set[tuple[str, str]]:
    """(claim, reported value) of each change the summary lists."""
    found = set()
    for line in stdout.splitlines():
        match = _CLAIM_LINE.match(line)
        if not match or match.group(2) == "unchanged":
            continue
        for reported in match.group(2).split(", then "):
            value = _REPORTED.match(reported)
            assert value, f"unreadable reported value {reported!r} in {line!r}"
            found.add((match.group(1), value.group(1)))
    return found


def test_demo_runs_offline_with_the_users_settings_ignored(demo: subprocess.CompletedProcess[str]):
    assert demo.returncode == 0, demo.stderr
    assert "5 feeds polled (0 failed)" in demo.stdout
    assert "nonexistent" not in demo.stdout + demo.stderr
    assert "must-not-be-used" not in demo.stdout + demo.stderr


def test_demo_alerts_exactly_the_changes_the_news_reports(demo: subprocess.CompletedProcess[str]):
    assert _changes(demo.stdout) == EXPECTED_CHANGES


def test_each_change_in_the_summary_was_printed_as_an_alert(
    demo: subprocess.CompletedProcess[str],
):
    headers = [line for line in demo.stdout.splitlines() if line.startswith("Funding figure ")]
    assert len(headers) == len(_changes(demo.stdout))
    assert f"{len(headers)} change alerts" in demo.stdout


def test_a_story_carried_by_two_feeds_is_stored_once(demo: subprocess.CompletedProcess[str]):
    items = load_news()["items"]
    titles = [item["title"] for item in items]
    carried_twice = {title for title in titles if titles.count(title) > 1}
    assert len(carried_twice) == 1  # the CNBC story, in Google News and in CNBC's own feed
    assert f"{len(items) - 1} articles stored" in demo.stdout


def test_reports_of_a_value_on_record_do_not_alert(demo: subprocess.CompletedProcess[str]):
    assert [title for title in UNCHANGED_TITLES if title in demo.stdout] == []
    assert "  chip-venture-raised: 1조 달러 (2024-02-08) -> unchanged" in demo.stdout
    assert "  korea-chip-cluster: 622조원 (2024-01-15) -> unchanged" in demo.stdout


def test_noise_items_do_not_alert(demo: subprocess.CompletedProcess[str]):
    assert [title for title in NOISE_TITLES if title in demo.stdout] == []


def test_the_expectations_name_recorded_items():
    titles = {item["title"] for item in load_news()["items"]}
    assert set(UNCHANGED_TITLES + NOISE_TITLES) <= titles


def test_demo_watch_claims_are_the_shipped_rules_claims(tmp_path: Path):
    demo_file = tmp_path / "demo.yaml"
    demo_file.write_text(watch_text("http://127.0.0.1:8000"), encoding="utf-8")
    demo_watch = load_rules(demo_file).watches[0]
    seed = load_rules(SEED_RULES).watches[0]
    assert demo_watch.claims == seed.claims
    assert (demo_watch.watch, demo_watch.entities, demo_watch.keywords) == (
        seed.watch,
        seed.entities,
        seed.keywords,
    )


def test_demo_watch_polls_exactly_the_recorded_feeds(tmp_path: Path):
    base = "http://127.0.0.1:8000"
    demo_file = tmp_path / "demo.yaml"
    demo_file.write_text(watch_text(base), encoding="utf-8")
    urls = set(load_rules(demo_file).watches[0].feed_urls())
    assert urls == {base + path for path in render_feeds(load_news())}


@pytest.mark.parametrize("name", sorted(load_news()["feeds"]))
def test_each_recorded_feed_parses_to_its_items(name: str):
    news = load_news()
    document = render_feeds(news)[feed_path(name)]
    parsed = parse_feed(document.body, {"content-type": document.content_type}, name)
    got = sorted(strip_publisher(e.title, e.source) for e in parsed.entries)
    assert got == sorted(item["title"] for item in news["items"] if item["feed"] == name)
    assert all(e.published is not None and e.summary for e in parsed.entries)


def test_the_korean_publisher_feed_is_really_euc_kr():
    document = render_feeds(load_news())[feed_path("etnews")]
    with pytest.raises(UnicodeDecodeError):
        document.body.decode("utf-8")
    assert "삼성전자" in document.body.decode("euc-kr")
    assert document.content_type.endswith("charset=EUC-KR")


def test_every_item_names_a_recorded_feed_and_a_date():
    news = load_news()
    for item in news["items"]:
        assert item["feed"] in news["feeds"], item["title"]
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", item["published"])
        if news["feeds"][item["feed"]]["format"] == "google-news":
            assert item.get("source"), f"a Google News item needs its publisher: {item['title']}"
    json.dumps(news)  # plain data only
