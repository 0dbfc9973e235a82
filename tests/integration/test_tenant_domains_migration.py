"""Migration 0002 moves each tenant's domain into tenant_domains, one tenant per domain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from dialconf.store import migrate
from dialconf.store.db import make_engine
from tests.support import postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database built by the first migration only, as installations before tenant domains have it."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        name = None
    else:
        server: postgres.PostgresServer = request.getfixturevalue("pg_server")
        name = f"old_{uuid.uuid4().hex[:12]}"
        engine = make_engine(server.create_database(name))
    _alembic(engine, "upgrade", "0001")
    yield engine
    engine.dispose()
    if name is not None:
        request.getfixturevalue("pg_server").drop_database(name)


def _alembic(engine: Engine, action: str, target: str) -> None:
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def _add_tenants(engine: Engine, domains: dict[str, str | None]) -> None:
    with engine.begin() as conn:
        for name, domain in domains.items():
            conn.execute(
                text(
                    "INSERT INTO tenants (name, domain, conference_id_mode, auto_email, pin_length, "
                    "meeting_migration, id_quarantine_days, created_at) "
                    "VALUES (:name, :domain, 'dynamic', true, 5, true, 90, :at)"
                ),
                {"name": name, "domain": domain, "at": datetime(2026, 1, 1, tzinfo=UTC)},
            )


def test_each_domain_goes_to_the_oldest_tenant_that_named_it_and_stays_its_primary_domain(
    engine_at_0001: Engine,
) -> None:
    _add_tenants(
        engine_at_0001,
        {"contoso": " Contoso.COM ", "copycat": "contoso.com", "fabrikam": "fabrikam.com", "bare": None},
    )
    _alembic(engine_at_0001, "upgrade", "head")
    with engine_at_0001.connect() as conn:
        held = conn.execute(
            text(
                "SELECT t.name, d.domain FROM tenant_domains d JOIN tenants t ON t.id = d.tenant_id "
                "ORDER BY d.domain"
            )
        ).all()
        primary = dict(conn.execute(text("SELECT name, domain FROM tenants")).all())
    assert [tuple(row) for row in held] == [("contoso", "contoso.com"), ("fabrikam", "fabrikam.com")]
    assert primary == {"contoso": "contoso.com", "copycat": None, "fabrikam": "fabrikam.com", "bare": None}


def test_downgrade_to_0001_keeps_the_primary_domains(engine_at_0001: Engine) -> None:
    _add_tenants(engine_at_0001, {"contoso": "contoso.com"})
    _alembic(engine_at_0001, "upgrade", "head")
    _alembic(engine_at_0001, "downgrade", "0001")
    with engine_at_0001.connect() as conn:
        assert conn.execute(text("SELECT domain FROM tenants")).scalar_one() == "contoso.com"
    assert migrate.current_revision(engine_at_0001) == "0001"
