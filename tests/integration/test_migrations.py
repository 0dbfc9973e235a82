"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from dialconf.store import migrate
from dialconf.store.db import make_engine
from dialconf.store.models import Base, is_search_structure
from tests.support import postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all (not the suite's pre-migrated template)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    server: postgres.PostgresServer = request.getfixturevalue("pg_server")
    name = f"empty_{uuid.uuid4().hex[:12]}"
    engine = make_engine(server.create_database(name))
    yield engine
    engine.dispose()
    server.drop_database(name)


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                # the search table and indexes of one database only (migration 0004) are not in the models
                "include_name": lambda name, type_, parent: not is_search_structure(name),
            },
        )
        return list(compare_metadata(context, Base.metadata))


def _run(engine: Engine, action: str, target: str) -> None:
    """`alembic upgrade|downgrade TARGET` on this engine, with dialconf's migration scripts."""
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {name for name in inspect(conn).get_table_names() if not is_search_structure(name)}


def _search_structures(engine: Engine) -> set[str]:
    """The search table (SQLite) or trigram indexes (PostgreSQL) that migration 0004 makes."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        names |= (
            {index["name"] or "" for index in inspect(conn).get_indexes("users")}
            if "users" in names
            else set()
        )
    return {name for name in names if is_search_structure(name)}


def test_upgrade_head_on_an_empty_database_builds_exactly_the_models(empty_engine: Engine) -> None:
    assert _tables(empty_engine) == set()
    _run(empty_engine, "upgrade", "head")
    assert _tables(empty_engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert _differences(empty_engine) == []
    expected = {"users_search"} if empty_engine.dialect.name == "sqlite" else {"ix_users_upn_trgm"}
    assert expected <= _search_structures(empty_engine)


def test_head_revision_constant_is_the_newest_migration_script() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [migrate.HEAD_REVISION]
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_the_products_upgrade_reports_the_revisions_and_is_then_current(empty_engine: Engine) -> None:
    assert not migrate.is_current(empty_engine)
    assert migrate.upgrade(empty_engine) == (None, migrate.HEAD_REVISION)
    assert migrate.is_current(empty_engine)
    assert migrate.upgrade(empty_engine) == (migrate.HEAD_REVISION, migrate.HEAD_REVISION)  # idempotent


def test_downgrade_to_base_removes_everything_and_upgrade_builds_it_again(empty_engine: Engine) -> None:
    _run(empty_engine, "upgrade", "head")
    _run(empty_engine, "downgrade", "base")
    assert _tables(empty_engine) - {"alembic_version"} == set()
    assert _search_structures(empty_engine) == set()
    assert migrate.current_revision(empty_engine) is None

    _run(empty_engine, "upgrade", "head")
    assert migrate.is_current(empty_engine)
    assert _differences(empty_engine) == []


def test_0010_keeps_the_calendars_set_before_it_as_they_were_allowed(empty_engine: Engine) -> None:
    """A URL set before 0010 is marked as the operator's (an admin's internal URL was refused then)."""
    _run(empty_engine, "upgrade", "0009")
    now = "2026-11-29 00:00:00"
    with empty_engine.begin() as conn:
        for name, url in (("contoso", "http://127.0.0.1:5232/{upn}/"), ("fabrikam", None)):
            conn.execute(
                text(
                    "INSERT INTO tenants (name, conference_id_mode, auto_email, pin_length, meeting_migration,"
                    " id_quarantine_days, caldav_url, created_at)"
                    " VALUES (:name, 'static', true, 5, true, 90, :url, :now)"
                ),
                {"name": name, "url": url, "now": now},
            )
    _run(empty_engine, "upgrade", "head")
    with empty_engine.connect() as conn:
        flags = dict(conn.execute(text("SELECT name, caldav_url_by_operator FROM tenants")).all())
    assert {name: bool(flag) for name, flag in flags.items()} == {"contoso": True, "fabrikam": False}
