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
        "explain",
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


EXPLAINED = """\
watch: explained
title: Explain test
catch_up: off
entities:
  altman: [Sam Altman, Altman]
  intel: [Intel]
feeds:
  - url: {url}
claims:
  - id: target
    about: [altman]
    kind: [target]
    topic: [chip, chips]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
    also:
      - value: "$9 trillion"
  - id: raised
    about: [altman]
    kind: [raised]
    topic: [chip, chips]
    value: "$1 trillion"
    as_of: 2024-02-08
"""
STORY = "https://news.example/altman-chips"


def _explained(tmp_path: Path, feed_server: FeedServer) -> dict[str, str]:
    """A database that has polled one story: a change, a figure of Intel's, an ambiguous one."""
    from tests.feeddocs import Item, rss20

    item = Item(
        title="Altman's chip plan",
        link=STORY,
        guid="altman-1",
        description=(
            "Altman seeks $8 trillion for chips. Intel plans to spend $100 billion on chips. "
            "Altman's chips: $3 trillion."
        ),
    )
    feed_server.route("/explained.xml", rss20([item]))
    path = tmp_path / "explained.yaml"
    path.write_text(EXPLAINED.format(url=feed_server.url("/explained.xml")), encoding="utf-8")
    env = monitor_env(tmp_path, path)
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 0, result.stderr
    return env


def test_explain_accounts_for_every_figure_of_a_stored_article(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    env = _explained(tmp_path, feed_server)
    result = run_monitor(["explain", STORY, "--json"], env)
    assert result.returncode == 0, result.stderr
    figures = {f["figure"]: f for f in json.loads(result.stdout)["figures"]}
    assert (figures["$8 trillion"]["claim"], figures["$8 trillion"]["outcome"]) == (
        "target",
        "change",
    )
    assert figures["$100 billion"]["outcome"] == "not tied"
    assert "Intel" in figures["$100 billion"]["not"]["target"]
    assert figures["$3 trillion"]["outcome"] == "ambiguous"
    assert figures["$3 trillion"]["candidates"] == ["target", "raised"]
    text = run_monitor(["explain", STORY], env).stdout
    assert "$100 billion: not tied (no claim)" in text and "why:" in text


def test_explain_names_an_unknown_url(tmp_path: Path, feed_server: FeedServer) -> None:
    env = _explained(tmp_path, feed_server)
    result = run_monitor(["explain", "https://news.example/nowhere"], env)
    assert result.returncode == 1
    assert "no stored article has the URL https://news.example/nowhere" in result.stderr


def test_history_all_shows_ambiguous_figures_and_claims_lists_known_numbers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    env = _explained(tmp_path, feed_server)
    plain = json.loads(run_monitor(["history", "target", "--json"], env).stdout)
    assert [r["figure"] for r in plain] == ["$8 trillion"]
    assert plain[0]["why"].startswith("held by Altman")
    every = json.loads(run_monitor(["history", "target", "--all", "--json"], env).stdout)
    assert [(r["figure"], r["outcome"]) for r in every] == [
        ("$8 trillion", "change"),
        ("$3 trillion", "ambiguous"),
    ]
    assert every[1]["candidates"] == ["target", "raised"]
    claims = {c["claim"]: c for c in json.loads(run_monitor(["claims", "--json"], env).stdout)}
    known = {
        (k["text"], k["low"], k["high"], k["currency"], k["source"])
        for k in claims["target"]["known_values"]
    }
    assert known == {
        ("$5 trillion to $7 trillion", 5e12, 7e12, "USD", "rules"),
        ("$9 trillion", 9e12, 9e12, "USD", "rules"),
        ("$8 trillion", 8e12, 8e12, "USD", "alert"),
    }


def test_alerts_says_what_each_status_means_and_counts_a_catch_up(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    from tests.feeddocs import Item, rss20

    item = Item(
        title="Altman's chip plan",
        link=STORY,
        guid="altman-1",
        description="Altman seeks $8 trillion for chips.",
    )
    feed_server.route("/backlog.xml", rss20([item]))
    path = tmp_path / "backlog.yaml"
    watch = EXPLAINED.replace("catch_up: off\n", "")
    path.write_text(watch.format(url=feed_server.url("/backlog.xml")), encoding="utf-8")
    env = monitor_env(tmp_path, path)
    assert run_monitor(["run", "--once"], env).returncode == 0
    rows = json.loads(run_monitor(["alerts", "--json"], env).stdout)
    assert {(r["kind"], r["status"], r["reported"]) for r in rows} == {
        ("change", "caught_up", "$8 trillion"),
        ("catch_up", "sent", "1 change"),
    }
    text = run_monitor(["alerts"], env).stdout
    assert "caught_up: a change from a feed's first poll" in text
    assert "sent: delivered" in text
