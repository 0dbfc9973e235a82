"""A seeded world for the CLI end-to-end tests, built once per database and copied for each test.

Building tenants, bridges, numbers, users and admin accounts through the CLI costs a few seconds;
doing it once per backend (SQLite file, PostgreSQL database) and copying the result keeps the suites
fast while every test still starts from the same, fully seeded state (the operator adds every
service number; each tenant holds its own domain, contoso.com, fabrikam.com and northwind.com):

    contoso    static IDs; bridge 'main' (+14255550100 toll, default, Seattle; +18005550199 toll-free)
               and bridge 'second' (+12065550123 toll, +18885550123 toll-free);
               users ada (builtin, US), grace (builtin; her first ID was reset, so it is quarantined),
               tp (third-party, ID 98765432); accounts admin@contoso.com (admin),
               helpdesk@contoso.com (helpdesk)
    fabrikam   static IDs; bridge 'main' (+13125550100); user bob; account admin@fabrikam.com (admin)
    northwind  dynamic IDs (the default); bridge 'main' (+442071234567); user dyn
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dialconf.cli.app import run
from dialconf.store.db import make_engine
from dialconf.store.models import Base
from tests.conftest import TEST_KEY, Cli
from tests.support import postgres

PASSWORD = "password-long-enough"
ADA, GRACE, TP, BOB, DYN = (
    "ada@contoso.com",
    "grace@contoso.com",
    "tp@contoso.com",
    "bob@fabrikam.com",
    "dyn@northwind.com",
)
ADMIN, HELPDESK, FABRIKAM_ADMIN = "admin@contoso.com", "helpdesk@contoso.com", "admin@fabrikam.com"
MAIN_TOLL, MAIN_FREE = "+14255550100", "+18005550199"
SECOND_TOLL, SECOND_FREE = "+12065550123", "+18885550123"
FABRIKAM_TOLL, NORTHWIND_TOLL = "+13125550100", "+442071234567"
TP_ID = "98765432"


@dataclass
class WorldTemplate:
    """A seeded database to copy, and what the seeding learned (IDs are random per build)."""

    backend: str
    source: str  # SQLite file path, or PostgreSQL database name
    facts: dict[str, str] = field(default_factory=dict)


class _Seeder:
    """Runs `dialconf ...` in-process during a session-scoped build, where capsys is not available."""

    def __init__(self, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("DIALCONF_DATABASE_URL", url)
        monkeypatch.setenv("DIALCONF_SECRET_KEY", TEST_KEY)
        monkeypatch.delenv("DIALCONF_ACTOR", raising=False)

    def __call__(self, *args: str, stdin: str | None = None) -> Any:
        if stdin is not None:
            self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run([*args, "--json"])
        assert code == 0, f"seeding failed: dialconf {' '.join(args)} exited {code}: {err.getvalue()}"
        return json.loads(out.getvalue())


def _seed(url: str) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as mp:
        dc = _Seeder(url, mp)
        dc("tenant", "create", "contoso", "--domain", "contoso.com")
        dc("bridge", "create", "contoso", "main")
        dc("number", "add", "contoso", MAIN_TOLL, "--city", "Seattle")
        dc("number", "add", "contoso", MAIN_FREE, "--toll-free")
        dc("bridge", "create", "contoso", "second")
        dc("number", "add", "contoso", SECOND_TOLL, "--bridge", "second", "--city", "Seattle")
        dc("number", "add", "contoso", SECOND_FREE, "--bridge", "second", "--toll-free")
        dc("tenant", "set-id-mode", "contoso", "static")
        enable = ("user", "enable", "--tenant", "contoso")
        ada = dc(*enable, ADA, "--email", ADA, "--name", "Ada Lovelace", "--country", "US")
        dc(*enable, GRACE, "--email", GRACE, "--name", "Grace Hopper", "--country", "US")
        grace = dc("user", "reset-conference-id", GRACE)
        dc(*enable, TP, "--email", TP, "--name", "Tess Party", "--provider", "third-party",
           "--conference-id", TP_ID)  # fmt: skip
        for email, role in ((ADMIN, "admin"), (HELPDESK, "helpdesk")):
            dc("admin", "create", email, "--tenant", "contoso", "--role", role, stdin=PASSWORD + "\n")

        dc("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
        dc("bridge", "create", "fabrikam", "main")
        dc("number", "add", "fabrikam", FABRIKAM_TOLL, "--city", "Chicago")
        dc("tenant", "set-id-mode", "fabrikam", "static")
        bob = dc("user", "enable", BOB, "--tenant", "fabrikam", "--email", BOB, "--name", "Bob Builder")
        dc(
            "admin",
            "create",
            FABRIKAM_ADMIN,
            "--tenant",
            "fabrikam",
            "--role",
            "admin",
            stdin=PASSWORD + "\n",
        )

        dc("tenant", "create", "northwind", "--domain", "northwind.com")
        dc("bridge", "create", "northwind", "main")
        dc("number", "add", "northwind", NORTHWIND_TOLL, "--city", "London")
        dc("user", "enable", DYN, "--tenant", "northwind", "--email", DYN, "--name", "Dee Namic")
    return {
        "ada_id": ada["conference_id"],
        "grace_id": grace["conference_id"],
        "grace_released_id": grace["previous_conference_id"],
        "bob_id": bob["conference_id"],
    }


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorldTemplate]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("world") / "world.db"
        shutil.copy(template, path)
        yield WorldTemplate("sqlite", str(path), _seed(f"sqlite:///{path}"))
        return
    server: postgres.PostgresServer = request.getfixturevalue("pg_server")
    name = f"world_{uuid.uuid4().hex[:8]}"
    url = server.create_database(name, template=server.template)  # type: ignore[attr-defined]
    facts = _seed(url)
    yield WorldTemplate("postgres", name, facts)
    server.drop_database(name)


@contextlib.contextmanager
def _copy_of(template: WorldTemplate, request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A fresh database holding the seeded world; yields its URL."""
    if template.backend == "sqlite":
        target = directory / f"world-{uuid.uuid4().hex[:8]}.db"
        # the backup API copies a consistent image, whatever is still in the WAL file
        with (
            contextlib.closing(sqlite3.connect(template.source)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
        yield f"sqlite:///{target}"
        return
    server: postgres.PostgresServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name, template=template.source)
    yield url
    server.drop_database(name)


def database_state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every dialconf table, in primary-key order: equal states mean nothing changed."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            state = {}
            for table in Base.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                state[table.name] = [tuple(row) for row in conn.execute(query)]
            return state
    finally:
        engine.dispose()


@dataclass
class World:
    """The seeded world in one database, driven through the CLI (`world.cli`)."""

    cli: Cli
    url: str
    facts: dict[str, str]

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        return database_state(self.url)


@pytest.fixture
def world(
    world_template: WorldTemplate,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[World]:
    """A private copy of the seeded world: the test may change it freely."""
    with _copy_of(world_template, request, tmp_path) as url:
        yield World(Cli(url, monkeypatch, capsys), url, dict(world_template.facts))


@pytest.fixture(scope="module")
def _module_world_url(
    world_template: WorldTemplate, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with _copy_of(world_template, request, tmp_path_factory.mktemp("shared-world")) as url:
        yield url


@pytest.fixture
def shared_world(
    world_template: WorldTemplate,
    _module_world_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:
    """One copy of the seeded world for a whole module, for tests that must leave it unchanged.

    Every test using it asserts that the database is the same after its command as before, so a
    command that wrongly changes something fails its own test.
    """
    return World(Cli(_module_world_url, monkeypatch, capsys), _module_world_url, dict(world_template.facts))
