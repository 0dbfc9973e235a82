"""Migrations 0004 and 0007 index the users that were there before them, and their downgrades remove the search structures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, inspect, text

from dialconf.domain.roles import Actor
from dialconf.services import users
from dialconf.store import migrate
from dialconf.store.db import make_engine
from tests.conftest import make_uow
from tests.integration.builders import make_tenant, make_user
from tests.support import postgres

OPERATOR = Actor.operator()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url_at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database built up to migration 0003, as installations before indexed search have it."""
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'old.db'}", None
    else:
        server: postgres.PostgresServer = request.getfixturevalue("pg_server")
        name = f"old_{uuid.uuid4().hex[:12]}"
        url = server.create_database(name)
    engine = make_engine(url)
    _alembic(engine, "upgrade", "0003")
    engine.dispose()
    yield url
    if name is not None:
        request.getfixturevalue("pg_server").drop_database(name)


def _alembic(engine: Engine, action: str, target: str) -> None:
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def test_users_enabled_before_the_migration_are_found_after_it(url_at_0003: str) -> None:
    # the users are made with today's models (the builders), then the schema goes back to 0003:
    # what 0004 finds is then exactly an installation from before indexed search, with its users
    engine = make_engine(url_at_0003)
    _alembic(engine, "upgrade", "head")
    make_tenant(make_uow(url_at_0003), "contoso")
    ada = make_user(make_uow(url_at_0003), "ada.lovelace@contoso.com")
    make_user(make_uow(url_at_0003), "grace@contoso.com")
    _alembic(engine, "downgrade", "0003")
    _alembic(engine, "upgrade", "head")
    engine.dispose()

    def found(search: str) -> list[str]:
        page = users.list_users(make_uow(url_at_0003), tenant="contoso", actor=OPERATOR, search=search)
        return [view.upn for view in page]

    assert found("lovel") == [ada.upn]
    assert found("LACE@CONTOSO") == [ada.upn]
    assert ada.conference_id is not None
    assert found(ada.conference_id) == [ada.upn]
    # and a user enabled afterwards is found too (the triggers, on SQLite)
    make_user(make_uow(url_at_0003), "hopper@contoso.com")
    assert found("hopp") == ["hopper@contoso.com"]


def test_migration_0007_indexes_the_users_already_there_and_a_search_with_many_matches_walks_it(
    url_at_0003: str,
) -> None:
    engine = make_engine(url_at_0003)
    _alembic(engine, "upgrade", "head")
    make_tenant(make_uow(url_at_0003), "contoso")
    upns = [make_user(make_uow(url_at_0003), f"user{i}@contoso.com").upn for i in range(4)]
    _alembic(engine, "downgrade", "0006")
    with engine.connect() as conn:
        assert "ix_users_tenant_names" not in _indexes(conn)
    _alembic(engine, "upgrade", "head")  # 0007 over the users already there
    with engine.connect() as conn:
        assert "ix_users_tenant_names" in _indexes(conn)
        if engine.dialect.name == "sqlite":
            # INDEXED BY fails where the index is missing; the count reads the index's entries alone
            indexed = conn.execute(
                text("SELECT count(*) FROM users INDEXED BY ix_users_tenant_names WHERE tenant_id > 0")
            ).scalar_one()
            assert indexed == len(upns)
        else:
            assert conn.execute(
                text("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_tenant_names'::regclass")
            ).scalar_one()
    engine.dispose()

    # more matches than the count cap: the page is found by the walk in sign-in name order
    page = users.list_users(
        make_uow(url_at_0003), tenant="contoso", actor=OPERATOR, search="user", limit=2, count_cap=1
    )
    assert [view.upn for view in page] == sorted(upns)[:2] and page.total_capped and page.truncated


def _indexes(conn: Connection) -> set[str]:
    return {index["name"] for index in inspect(conn).get_indexes("users") if index["name"]}
