"""The store: migrations build both databases, and concurrent writers lose nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text, update
from sqlmodel import SQLModel, select

from monitor import store
from monitor.errors import ConfigError
from monitor.observe import _ALERTED_VALUES, _ALIKE
from monitor.store import AlertRow, FeedState


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"feed_state", "article", "claim", "observation", "alert", "alembic_version"} <= tables


def test_migrating_twice_keeps_the_data(engine: Engine) -> None:
    with store.session(engine) as s:
        s.add(FeedState(url="https://a.example/feed", watch="w", polls=3))
    store.migrate(engine)
    with store.session(engine) as s:
        assert s.get(FeedState, "https://a.example/feed").polls == 3  # type: ignore[union-attr]


def test_read_modify_write_under_threads_loses_no_update(engine: Engine) -> None:
    """The trap of the sqlite3 driver (and of READ COMMITTED): a row lock or BEGIN IMMEDIATE."""
    with store.session(engine) as s:
        s.add(FeedState(url="u", watch="w"))

    def bump() -> None:
        for _ in range(25):
            with store.session(engine) as s:
                row = s.exec(select(FeedState).where(FeedState.url == "u").with_for_update()).one()
                row.polls = row.polls + 1

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.session(engine) as s:
        assert s.get(FeedState, "u").polls == 8 * 25  # type: ignore[union-attr]


def test_insert_ignore_returns_the_id_only_for_the_first(engine: Engine) -> None:
    values = {"key": "k1", "kind": "change", "watch": "w", "payload": "{}"}
    with store.session(engine) as s:
        first = store.insert_ignore(s, AlertRow, values, ["key"])
        again = store.insert_ignore(s, AlertRow, values, ["key"])
    assert isinstance(first, int) and again is None


def test_claiming_an_alert_is_atomic_across_threads(engine: Engine) -> None:
    with store.session(engine) as s:
        s.add(AlertRow(key="k", kind="change", watch="w", payload="{}"))
    winners: list[int] = []

    def claim() -> None:
        with store.session(engine) as s:
            result = s.exec(
                update(AlertRow)
                .where(AlertRow.key == "k", AlertRow.status == "pending")  # type: ignore[arg-type]
                .values(status="sending", claimed_at=datetime.now(UTC))
            )
            winners.append(result.rowcount)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(winners) == [0, 0, 0, 0, 0, 1]


def test_sqlite_is_configured_for_a_daemon(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = store.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_unreachable_database_says_where_and_what_to_do() -> None:
    with pytest.raises(
        ConfigError,
        match=r"cannot reach the database at postgresql\+psycopg://nobody@127\.0\.0\.1:1/x",
    ):
        store.open_store("postgresql+psycopg://nobody@127.0.0.1:1/x")


def test_concurrent_migrations_of_one_database_do_not_collide(database_url: str) -> None:
    """Replicas and CLI commands may start together: each migrates, one at a time."""
    engines = [store.make_engine(database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def migrate(engine: Engine) -> None:
        try:
            store.migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    for e in engines:
        e.dispose()


def test_the_migrations_build_exactly_the_tables_of_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_the_lookups_of_every_new_article_use_their_indexes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Without them SQLite scanned a publisher's articles, and a watch's every alert, for
    # each article: polls slowed as the database grew.
    engine = store.open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    alike = {
        "keys": ["a", "b"],
        "publishers": ["Reuters"],
        "earliest": datetime(2026, 7, 1, tzinfo=UTC),
        "latest": datetime(2026, 7, 3, tzinfo=UTC),
    }
    plans = {}
    with engine.connect() as conn:
        for name, stmt, values in (
            ("alike", _ALIKE, alike),
            ("alerted", _ALERTED_VALUES, {"watch": "w"}),
        ):
            sql = stmt.params(**values).compile(
                engine, compile_kwargs={"literal_binds": True, "render_postcompile": True}
            )
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            plans[name] = " ".join(row[-1] for row in rows)
    engine.dispose()
    assert "ix_article_alike" in plans["alike"]
    assert "ix_alert_watch_kind" in plans["alerted"]
