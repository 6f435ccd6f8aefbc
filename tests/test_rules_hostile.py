"""Hostile rules files: every problem is a `file:line` error within a budget, never a
traceback, a hang or gigabytes; and a SIGHUP with such a file never stops the daemon.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from monitor.errors import RulesErrors
from monitor.rules import MAX_RULES_BYTES, MAX_RULES_DEPTH, MAX_RULES_VALUES, load_rules
from tests.daemon_helpers import http_get, monitor_env, start_monitor, wait_for
from tests.feeddocs import news_items, rss20
from tests.feedserver import FeedServer

VALID = """\
watch: hostile
title: Hostile
entities:
  altman: [Sam Altman]
claims:
  - id: target
    about: [altman]
    topic: [chip]
    value: "$7 trillion"
    as_of: 2024-02-08
"""

# A 1 kB "billion laughs": nine levels of nine aliases, 9^9 strings once expanded (47 s, 4 GB).
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{','.join(['*' + prev] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + VALID
)


def _errors(path: Path) -> list[str]:
    with pytest.raises(RulesErrors) as info:
        load_rules(path)
    return [str(error) for error in info.value.errors]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.timeout(60)
def test_an_alias_bomb_is_refused_within_its_budget(tmp_path):
    path = _write(tmp_path, ALIAS_BOMB)
    start = time.perf_counter()
    errors = _errors(path)
    assert time.perf_counter() - start < 5.0  # 47 s before
    assert errors[-1].startswith(f"{path}:")
    assert f"more than {MAX_RULES_VALUES:,} values" in errors[-1]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("watch: !foo hostile\n", 1, "cannot be read: could not determine a constructor"),
        ("watch: !!python/name:os.system hostile\n", 1, "cannot be read:"),
        (
            'claims: !!python/object/apply:os.system ["echo pwned"]\n',
            1,
            "claims: has the tag tag:yaml.org,2002:python/object/apply:os.system",
        ),
        ("keywords: &k\n  - chip\n  - *k\n", 1, "keywords[1]: refers to itself"),
        ("entities: &e {x: *e}\n", 1, "entities.x: refers to itself"),
        ("? [a, b]\n: value\n", 1, "has a key that is a list or a mapping"),
    ],
)
def test_each_hostile_construct_is_a_file_line_error(tmp_path, text, line, expected):
    path = _write(tmp_path, text + VALID.replace("watch: hostile\n", ""))
    errors = _errors(path)
    assert any(e.startswith(f"{path}:{line}: ") and expected in e for e in errors), errors


def test_deep_nesting_is_refused_before_it_recurses(tmp_path):
    path = _write(tmp_path, "keywords: " + "[" * 10_000 + "]" * 10_000 + "\n" + VALID)
    [error] = _errors(path)
    assert (
        error == f"{path}:1: nests more than {MAX_RULES_DEPTH} levels deep; a watch needs a handful"
    )


def test_a_file_over_the_size_cap_is_refused(tmp_path):
    path = _write(tmp_path, VALID + "#" * MAX_RULES_BYTES)
    [error] = _errors(path)
    assert error.startswith(f"{path}: is larger than {MAX_RULES_BYTES:,} bytes")


def test_text_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(VALID.encode() + b"keywords: [\xff]\n")
    [error] = _errors(path)
    assert error.startswith(f"{path}:11: is not UTF-8 text")


@pytest.mark.timeout(30)
def test_a_yaml_link_to_dev_zero_is_refused_without_reading_it(tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    _write(tmp_path, VALID)
    errors = _errors(tmp_path)
    assert errors == [f"{tmp_path / 'zero.yaml'}: is not a regular file; rules must be plain files"]


@pytest.mark.timeout(30)
def test_a_fifo_named_yaml_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    _write(tmp_path, VALID)
    errors = _errors(tmp_path)
    assert errors == [f"{tmp_path / 'pipe.yaml'}: is not a regular file; rules must be plain files"]


WATCH = """\
watch: daemon-hostile
title: Daemon hostile
entities:
  altman: [Sam Altman]
feeds:
  - url: {url}
    every: 1s
claims:
  - id: target
    about: [altman]
    topic: [chip]
    value: "$7 trillion"
    as_of: 2024-02-08
"""


@pytest.mark.timeout(120)
def test_a_sighup_with_hostile_rules_keeps_the_daemon_and_its_rules(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """An unknown tag or a recursive alias made the daemon exit 1 on SIGHUP."""
    feed_server.route("/a", rss20(news_items(2, prefix="a")))
    rules = tmp_path / "watch.yaml"
    rules.write_text(WATCH.format(url=feed_server.url("/a")), encoding="utf-8")
    env = monitor_env(tmp_path, rules)
    log = tmp_path / "daemon.log"
    proc = start_monitor(["run"], env, log)
    try:
        base = f"http://{env['MONITOR_HTTP_ADDR']}"
        wait_for(lambda: http_get(base + "/healthz")[0] == 200, 30, "/healthz to answer 200")
        for n, hostile in enumerate(["watch: !foo x\n", "watch: &w [*w]\n"], start=1):
            rules.write_text(hostile, encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            wait_for(
                lambda n=n: log.read_text().count("rules not reloaded") >= n,
                15,
                "the reload error in the log",
            )
            before = len(feed_server.requests("/a"))
            wait_for(lambda b=before: len(feed_server.requests("/a")) > b, 15, "/a still polled")
            assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in log.read_text()
