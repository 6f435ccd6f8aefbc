"""`monitor replay`: what a rules edit changes, on the articles already stored, posting nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from monitor import store
from monitor.observe import store_articles, sync_claims
from monitor.replay import apply, replay
from monitor.rules import Rules, load_rules
from monitor.store import RECORDED, AlertRow, ArticleRow, DecisionRow, ObservationRow
from tests.daemon_helpers import monitor_env, run_monitor
from tests.test_observe import _article, day

WATCH = """\
watch: samsung
title: Samsung in the US
entities:
  samsung: [Samsung, Samsung Electronics]
feeds:
  - url: https://feed.example/
claims:
  - id: us-fabs
    about: [samsung]
    kind: [investment]
    {where}
    topic: [{topic}]
    value: "$44 billion"
    as_of: 2024-04-15
"""
BEFORE = {"where": "", "topic": "plant, fab"}
AFTER = {"where": "where: [US]", "topic": "plant"}  # 'fab' removed, a place added
TEXAS = _article(
    "texas", "Samsung ups Texas bet", "Samsung will invest $50 billion in its Texas chip plant.",
    day(2024, 5, 1),
)  # fmt: skip
KOREA = _article(
    "korea", "Samsung plans Korean plant",
    "Samsung will invest $20 billion in a chip plant in Pyeongtaek, South Korea.", day(2024, 5, 2),
)  # fmt: skip
FAB = _article(
    "fab", "Samsung fab", "Samsung will invest $17 billion in a new fab.", day(2024, 5, 3)
)


def _rules(tmp_path: Path, **fields: str) -> Rules:
    path = tmp_path / "samsung.yaml"
    path.write_text(WATCH.format(**fields), encoding="utf-8")
    return load_rules(path)


def _observed(engine: Engine) -> set[tuple[str, str]]:
    with store.session(engine) as s:
        rows = s.exec(
            select(ArticleRow.url, ObservationRow.outcome).join(
                ObservationRow, ObservationRow.article_id == ArticleRow.id
            )
        ).all()
    return {(url, outcome) for url, outcome in rows}


@pytest.fixture
def stored(tmp_path: Path, engine: Engine) -> Engine:
    """The three stories, stored under the rules before the edit."""
    rules = _rules(tmp_path, **BEFORE)
    sync_claims(engine, rules)
    store_articles(engine, rules.watches[0], [TEXAS, KOREA, FAB], channel=None)
    assert {url for url, _ in _observed(engine)} == {TEXAS.url, KOREA.url, FAB.url}
    return engine


def test_replay_reports_exactly_the_observations_an_edit_changes(
    tmp_path: Path, stored: Engine
) -> None:
    rules = _rules(tmp_path, **AFTER)
    done = replay(stored, rules, rules.watches[0])
    assert done.articles == 3
    (claim,) = done.claims.values()
    assert {s.url for s in claim.lost} == {KOREA.url, FAB.url}
    assert claim.gained == [] and claim.changed == []
    assert len(claim.would_not) == 2 and claim.would_alert == []
    # Replaying under the rules the articles were read with changes nothing.
    same = _rules(tmp_path, **BEFORE)
    assert replay(stored, same, same.watches[0]).unchanged


def test_apply_writes_the_observations_and_posts_nothing(tmp_path: Path, stored: Engine) -> None:
    with store.session(stored) as s:
        before = len(s.exec(select(AlertRow)).all())
    rules = _rules(tmp_path, **AFTER)
    written = apply(stored, replay(stored, rules, rules.watches[0]))
    assert written == 1
    assert {url for url, _ in _observed(stored)} == {TEXAS.url}
    with store.session(stored) as s:
        alerts = s.exec(select(AlertRow)).all()
    assert len(alerts) == before  # nothing new in the outbox
    # The alerts the rules no longer raise are withdrawn: kept, no longer known values.
    assert sorted(a.decision or "-" for a in alerts if a.kind == "change") == [
        "-",
        "withdrawn",
        "withdrawn",
    ]
    with store.session(stored) as s:
        kept = s.exec(select(DecisionRow.action, DecisionRow.via)).all()
    assert sorted(kept) == [("withdraw", "replay")] * 2
    assert replay(stored, rules, rules.watches[0]).unchanged  # applied: nothing left


def test_a_value_the_fix_reveals_becomes_known_without_a_post(
    tmp_path: Path, engine: Engine
) -> None:
    strict = _rules(tmp_path, where="", topic="semiconductors")
    sync_claims(engine, strict)
    store_articles(engine, strict.watches[0], [TEXAS], channel=None)
    assert _observed(engine) == set()
    rules = _rules(tmp_path, **AFTER)
    done = replay(engine, rules, rules.watches[0])
    (claim,) = done.claims.values()
    assert [s.url for s in claim.gained] == [TEXAS.url] and len(claim.would_alert) == 1
    apply(engine, done)
    with store.session(engine) as s:
        (known,) = s.exec(select(AlertRow)).all()
    assert known.status == RECORDED and known.low == 50e9
    assert _observed(engine) == {(TEXAS.url, "change")}


def test_the_command_prints_per_claim_and_applies_nothing_to_slack(
    tmp_path: Path, feed_server: object
) -> None:
    rules_file = tmp_path / "samsung.yaml"
    rules_file.write_text(WATCH.format(**BEFORE), encoding="utf-8")
    env = monitor_env(tmp_path, rules_file)
    engine = store.open_store(env["MONITOR_DATABASE_URL"])
    rules = load_rules(rules_file)
    sync_claims(engine, rules)
    store_articles(engine, rules.watches[0], [TEXAS, KOREA, FAB], channel=None)
    engine.dispose()
    rules_file.write_text(WATCH.format(**AFTER), encoding="utf-8")
    shown = run_monitor(["replay", "samsung"], env)
    assert shown.returncode == 0, shown.stderr
    assert "3 stored articles replayed" in shown.stdout and "us-fabs" in shown.stdout
    assert shown.stdout.count("\n    - ") == 2 and "--apply" in shown.stdout
    applied = run_monitor(["replay", "--apply", "--json"], env)
    assert applied.returncode == 0, applied.stderr
    (report,) = json.loads(applied.stdout)
    assert report["observations_written"] == 1
    assert len(report["claims"]["us-fabs"]["lost"]) == 2
    assert run_monitor(["replay", "nope"], env).returncode == 2
