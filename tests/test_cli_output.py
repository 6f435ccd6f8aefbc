"""What the `monitor` command prints when feed text is hostile, and what it costs to start."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from tests.daemon_helpers import monitor_env, run_monitor
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
# Markup rich would read, a terminal title change, a screen clear, a one-byte CSI, a bidi override.
HOSTILE = "[/red][/bold] :smile: \x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil"
UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e")
WATCH = """\
watch: hostile
title: Hostile feed
catch_up: off
entities:
  altman: [Sam Altman, Altman]
feeds:
  - url: {url}
claims:
  - id: target
    about: [altman]
    topic: [chip, chips]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
"""
STORY = "https://news.example/altman-chips"


def _polled(tmp_path: Path, feed_server: FeedServer, body: bytes) -> dict[str, str]:
    feed_server.route("/hostile.xml", body)
    rules = tmp_path / "hostile.yaml"
    rules.write_text(WATCH.format(url=feed_server.url("/hostile.xml")), encoding="utf-8")
    env = monitor_env(tmp_path, rules, COLUMNS="1000")  # no wrapping inside the quoted text
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 0, result.stderr
    return env


def _assert_plain(output: str) -> None:
    for char in UNSAFE:
        assert char not in output, f"{char!r} reached the terminal"


def test_status_prints_a_feed_url_with_markup_as_plain_text(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Feed errors no longer quote what a server sent; a URL still reaches the table as is.
    url = feed_server.url("/hostile.xml?q=[/red][/bold]")
    feed_server.route("/hostile.xml", "<html><title>login</title></html>")
    rules = tmp_path / "hostile.yaml"
    rules.write_text(WATCH.format(url=url), encoding="utf-8")
    env = monitor_env(tmp_path, rules, COLUMNS="1000")
    assert run_monitor(["run", "--once"], env).returncode == 0
    result = run_monitor(["status"], env)
    assert result.returncode == 0, result.stderr
    assert url in result.stdout  # shown as written, not read as markup


def test_history_claims_and_explain_print_a_hostile_publisher_as_plain_text(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    item = Item(
        title=f"Altman's chip plan {HOSTILE}",
        link=STORY,
        guid="altman-1",
        description="Altman seeks $8 trillion for chips.",
    )
    env = _polled(tmp_path, feed_server, rss20([item], title=HOSTILE))
    for args in (["history", "target"], ["claims"], ["explain", STORY]):
        result = run_monitor(args, env)
        assert result.returncode == 0, (args, result.stderr)
        assert "[/red][/bold]" in result.stdout and "evil" in result.stdout, args
        _assert_plain(result.stdout)
    csv_out = run_monitor(["history", "target", "--csv"], env).stdout
    assert "[/red][/bold]" in csv_out
    _assert_plain(csv_out)
    # JSON keeps every character, escaped: the data is exact and a terminal is safe.
    raw = run_monitor(["history", "target", "--json"], env).stdout
    _assert_plain(raw)
    assert json.loads(raw)[0]["publisher"].endswith("\u202eevil")


def test_an_error_naming_a_path_with_markup_is_printed_not_parsed(tmp_path: Path) -> None:
    broken = tmp_path / "[" / "bold]broken.yaml"  # a path holding "[/bold]"
    broken.parent.mkdir()
    broken.write_text("watch: x\ntitle: y\nentities: {}\nfeeds:\n  - every: 1m\n", encoding="utf-8")
    result = run_monitor(["run", "--once"], monitor_env(tmp_path, broken))
    assert result.returncode == 2
    assert f"error: {broken}:5: feeds[0]" in result.stderr


def test_extract_clips_a_long_line_in_its_table(tmp_path: Path) -> None:
    source = tmp_path / "long.txt"
    source.write_text("It raised $1.5bn. " + "news " * 20_000 + "\n", encoding="utf-8")
    result = run_monitor(["extract", str(source)], monitor_env(tmp_path, ROOT / "rules"))
    assert result.returncode == 0, result.stderr
    assert "$1.5bn" in result.stdout and "…" in result.stdout
    assert len(result.stdout) < 5_000  # the table shows the start of the line, not 100 kB


def test_extract_reads_invalid_utf8_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "latin1.txt"
    source.write_bytes(b"It raised $1.5bn.\n" + "Caf\xe9 raised £2m.\n".encode("latin-1"))
    result = run_monitor(["extract", str(source), "--json"], monitor_env(tmp_path, ROOT / "rules"))
    assert result.returncode == 0, result.stderr
    assert f"{source}:2: not UTF-8 (byte 0xe9)" in result.stderr
    assert "Traceback" not in result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in objects] == ["It raised $1.5bn.", "Caf\ufffd raised \ufffd2m."]


def test_extract_json_writes_one_object_per_newline_and_escapes_unsafe_characters(
    tmp_path: Path,
) -> None:
    lines = ["\u202eIt raised $1.5bn.\x1b[2J", "a\u2028b\x85c\x1cd", ""]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_monitor(["extract", str(source), "--json"], monitor_env(tmp_path, ROOT / "rules"))
    assert result.returncode == 0, result.stderr
    _assert_plain(result.stdout)
    assert "\x85" not in result.stdout and "\x1c" not in result.stdout
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in objects] == lines
    assert objects[0]["figures"][0]["text"] == "$1.5bn"


def test_version_imports_none_of_the_heavy_stack() -> None:
    script = (
        "import sys\n"
        "sys.argv = ['monitor', '--version']\n"
        "from monitor.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "funding-monitor 0.1.0"
    loaded = set(result.stderr.split())
    heavy = {
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "pydantic_settings",
        "httpx",
        "apscheduler",
        "slack_sdk",
        "feedparser",
        "currency_converter",
        "rich.table",
        "monitor.store",
        "monitor.figures",
    }
    assert not heavy & loaded, sorted(heavy & loaded)


def test_a_headline_read_as_a_formula_is_text_in_history_csv(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    item = Item(
        title='=HYPERLINK("https://evil.example","Altman seeks $8 trillion for chips")',
        link=STORY,
        guid="altman-formula",
        description="Altman seeks $8 trillion for chips.",
    )
    env = _polled(tmp_path, feed_server, rss20([item], title="@SUM(1+1)"))
    rows = list(
        csv.DictReader(io.StringIO(run_monitor(["history", "target", "--csv"], env).stdout))
    )
    assert rows, "the figure was not observed"
    assert all(r["title"].startswith("'=") and r["publisher"] == "'@SUM(1+1)" for r in rows)
