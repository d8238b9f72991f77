"""The store on SQLite: migrations agree with the models, attempts are idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import StoreError
from redline.store import Store
from redline.store.models import Base


def _schema(url: str) -> tuple[list[object], dict[str, object]]:
    """Differences from the models (alembic's autogenerate), and each table's full layout."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        found = inspect(connection)
        layout: dict[str, object] = {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                sorted(
                    (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
                found.get_pk_constraint(table)["constrained_columns"],
                [
                    (f["referred_table"], f["constrained_columns"])
                    for f in found.get_foreign_keys(table)
                ],
            )
            for table in sorted(found.get_table_names())
        }
    engine.dispose()
    return diff, layout


def test_migrations_create_exactly_the_models_schema(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from redline.store.db import MIGRATIONS, SCHEMA_HEAD

    migrated_url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrated = Store(migrated_url)
    with migrated.engine.begin() as connection:  # rebuild it through every migration
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    assert migrated.revision() == SCHEMA_HEAD
    migrated.close()
    created_url = f"sqlite:///{tmp_path / 'created.db'}"  # a new file: made at the head
    Store(created_url).close()
    migrated_diff, migrated_layout = _schema(migrated_url)
    created_diff, created_layout = _schema(created_url)
    assert migrated_diff == [] and created_diff == []
    assert created_layout == migrated_layout


def test_a_new_sqlite_store_is_made_without_loading_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'r.db'}"
    code = (
        "import sys; from redline.store import Store; from redline.store.db import SCHEMA_HEAD; "
        f"s = Store({url!r}); "
        "assert s.revision() == SCHEMA_HEAD; s.create_run('redteam', 'mock'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_schema_head_is_alembic_head_and_an_older_store_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from redline.store.db import MIGRATIONS, SCHEMA_HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD

    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    assert store.revision() == SCHEMA_HEAD
    with store.engine.begin() as connection:  # as a store made before the guard's events
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert store.revision() == "0001"
    store.close()
    reopened = Store(f"sqlite:///{tmp_path / 'r.db'}")
    assert reopened.revision() == SCHEMA_HEAD
    assert reopened.ingest_events([{"kind": "request", "log_hash": "h1"}]) == 1


def test_default_database_lives_under_redline_home(redline_home: Path) -> None:
    store = Store()
    run = store.create_run("redteam", "mock")
    assert (redline_home / "redline.db").is_file()
    assert store.get_run(run.id) is not None


def test_reopening_keeps_data_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = Store(url)
    run = first.create_run("redteam", "mock", {"suite": "x"})
    assert first.add_attempt(run.id, "k1", messages=[{"role": "user", "content": "a"}], params={})
    assert not first.add_attempt(run.id, "k1", messages=[], params={})  # duplicate key refused
    first.close()
    second = Store(url)
    assert second.attempt_keys(run.id) == {"k1"}
    assert second.attempts(run.id)[0].messages == [{"role": "user", "content": "a"}]
    second.finish_run(run.id)
    finished = second.get_run(run.id)
    assert finished is not None and finished.status == "finished" and finished.finished_at


def test_findings_and_events_round_trip(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    run = store.create_run("audit", "mock")
    store.add_finding(
        run.id,
        title="complies with weapons requests",
        severity="high",
        category="weapons",
        tags=["owasp-llm-2025:LLM01"],
        evidence=["k1"],
    )
    store.add_events([{"kind": "request", "client": "c1", "action": "block", "payload": {"n": 1}}])
    (finding,) = store.findings(run.id)
    assert finding.tags == ["owasp-llm-2025:LLM01"] and finding.evidence == ["k1"]


def test_unknown_run_and_bad_url_give_store_errors(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(StoreError, match="No run 'nope'"):
        store.finish_run("nope")
    with pytest.raises(StoreError, match="Cannot open the store") as info:
        Store("postgresql+psycopg://user:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(info.value)


def test_a_page_of_one_runs_attempts_is_read_in_id_order_without_a_sort(tmp_path: Path) -> None:
    """The dashboard's attempts table stops at one page: SQLite must not sort the whole run."""
    from sqlalchemy import text

    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    for run in ("big", "small"):
        store.create_run("redteam", "mock", run_id=run)
        for i in range(50):
            store.add_attempt(run, f"{run}-{i}", category="cyber" if i % 2 else "fraud")
    with store.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        plan = " | ".join(str(row[-1]) for row in connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM attempts WHERE run_id = 'small' AND id > 0 "
            "AND category = 'cyber' ORDER BY id LIMIT 51")))
    store.close()
    assert "ix_attempts_run_id" in plan and "TEMP B-TREE" not in plan, plan
