"""The `monitor` command as a person types it: help, rules, extract, claims, status, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon_helpers import monitor_env, run_monitor
from tests.fakeslack import FakeSlack
from tests.feedserver import FeedServer, closed_port_url

ROOT = Path(__file__).resolve().parents[1]
WATCH = """\
watch: cli
title: CLI test
entities:
  altman: [Sam Altman]
feeds:
  - url: {url}
claims:
  - id: target
    about: [altman]
    topic: [chip]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
"""


def _rules(tmp_path: Path, url: str = "https://example.com/feed.xml") -> Path:
    path = tmp_path / "cli.yaml"
    path.write_text(WATCH.format(url=url), encoding="utf-8")
    return path


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_monitor(["--help"], monitor_env(tmp_path, ROOT / "rules"))
    assert result.returncode == 0
    for command in (
        "run",
        "demo",
        "rules",
        "extract",
        "claims",
        "history",
        "alerts",
        "status",
        "init",
    ):
        assert f" {command} " in result.stdout, command


def test_rules_check_passes_on_the_shipped_rules(tmp_path: Path) -> None:
    result = run_monitor(["rules", "check"], monitor_env(tmp_path, ROOT / "rules"))
    assert result.returncode == 0, result.stderr
    assert "ai-chip-funding" in result.stdout and "claims" in result.stdout


def test_rules_check_names_file_and_line_of_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        WATCH.format(url="https://e.com/f").replace("$5 trillion to $7 trillion", "about five")
    )
    result = run_monitor(["rules", "check", str(broken)], monitor_env(tmp_path, broken))
    assert result.returncode == 1
    assert f'{broken}:11: claims[0].value: "about five" is not a money amount' in result.stderr


def test_rules_schema_is_json_schema(tmp_path: Path) -> None:
    result = run_monitor(["rules", "schema"], monitor_env(tmp_path, ROOT / "rules"))
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "claims" in schema["properties"]


def test_extract_json_prints_one_object_per_line_in_order(tmp_path: Path) -> None:
    lines = [
        "샘 알트먼은 5조~7조 달러가 필요하다",
        "No money here, only 36 fabs.",
        "It raised $1.5bn.",
    ]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_monitor(
        ["extract", str(source), "--json", "--date", "2024-02-08"],
        monitor_env(tmp_path, ROOT / "rules"),
    )
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in objects] == lines
    first = objects[0]["figures"][0]
    assert {k: first[k] for k in ("text", "low", "high", "currency", "qualifier", "vague")} == {
        "text": "5조~7조 달러",
        "low": 5e12,
        "high": 7e12,
        "currency": "USD",
        "qualifier": "exact",
        "vague": False,
    }
    assert {"start", "end", "usd_low", "usd_high"} <= set(first)
    assert objects[1]["figures"] == []
    assert objects[2]["figures"][0]["usd_low"] == 1.5e9


def test_extract_converts_at_the_given_date(tmp_path: Path) -> None:
    env = monitor_env(tmp_path, ROOT / "rules")
    source = tmp_path / "in.txt"
    source.write_text("622조원\n", encoding="utf-8")
    result = run_monitor(["extract", str(source), "--json", "--date", "2024-02-08"], env)
    usd = json.loads(result.stdout)["figures"][0]["usd_low"]
    assert 4.5e11 < usd < 4.8e11  # about $467 billion at that day's rate
    bad = run_monitor(["extract", str(source), "--date", "Feb 8"], env)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_run_once_exits_nonzero_on_invalid_rules(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("watch: x\ntitle: y\nentities: {}\nfeeds:\n  - every: 1m\n", encoding="utf-8")
    result = run_monitor(["run", "--once"], monitor_env(tmp_path, broken))
    assert result.returncode == 2
    assert f"{broken}:5: feeds[0]" in result.stderr


def test_run_once_exits_nonzero_when_the_database_is_unreachable(tmp_path: Path) -> None:
    env = monitor_env(
        tmp_path, _rules(tmp_path), MONITOR_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x"
    )
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr and "MONITOR_DATABASE_URL" in result.stderr


def test_run_once_exits_nonzero_when_slack_rejects_the_token(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = monitor_env(
        tmp_path,
        _rules(tmp_path),
        SLACK_BOT_TOKEN="xoxb-wrong",
        SLACK_CHANNEL="#general",
        SLACK_API_URL=fake_slack.api_url,
    )
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 2
    assert "invalid_auth" in result.stderr


def test_run_once_reports_failed_feeds_but_exits_zero(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    dead = closed_port_url()
    path = _rules(tmp_path, dead)
    env = monitor_env(tmp_path, path)
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 0, result.stderr
    assert "1 failed" in result.stderr and dead in result.stderr
    status = json.loads(run_monitor(["status", "--json"], env).stdout)
    assert [(s["feed"], s["result"], s["failures"]) for s in status] == [(dead, "failed", 1)]
    claims = json.loads(run_monitor(["claims", "--json"], env).stdout)
    assert [(c["claim"], c["stored"], c["latest"]) for c in claims] == [
        ("target", "$5 trillion to $7 trillion", None)
    ]


def test_version(tmp_path: Path) -> None:
    result = run_monitor(["--version"], monitor_env(tmp_path, ROOT / "rules"))
    assert (result.returncode, result.stdout.strip()) == (0, "funding-monitor 0.1.0")
