"""Fixtures shared by every test: real SQLite files, a real PostgreSQL server, and the CLI in-process."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dialconf.cli.app import run
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.migrate import upgrade
from dialconf.store.uow import UnitOfWork
from tests.support import postgres
from tests.support.smtp import SmtpServer, smtp_server

TEST_KEY = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer]:
    server = postgres.start()
    template = f"dialconf_template_{uuid.uuid4().hex[:8]}"
    url = server.create_database(template)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    server.template = template  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "dialconf.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _sqlite_url(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "dialconf.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, then a PostgreSQL database on the real server."""
    if request.param == "sqlite":
        yield _sqlite_url(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    server: postgres.PostgresServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name, template=server.template)  # type: ignore[attr-defined]
    yield url
    server.drop_database(name)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return _sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(pg_server: postgres.PostgresServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name, template=pg_server.template)  # type: ignore[attr-defined]
    yield url
    pg_server.drop_database(name)


def make_uow(url: str, **kwargs: Any) -> UnitOfWork:
    engine = make_engine(url)
    return UnitOfWork(make_session_factory(engine), pin_key=lambda: TEST_KEY.encode(), **kwargs)


@pytest.fixture
def uow(database_url: str) -> UnitOfWork:
    return make_uow(database_url)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs `dialconf ...` in this process against one database, as the operator unless told otherwise."""

    def __init__(self, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        monkeypatch.setenv("DIALCONF_DATABASE_URL", url)
        monkeypatch.setenv("DIALCONF_SECRET_KEY", TEST_KEY)
        monkeypatch.delenv("DIALCONF_ACTOR", raising=False)

    def __call__(self, *args: str, stdin: str | None = None) -> CliResult:
        if stdin is not None:
            import io
            import sys

            self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self._capsys.readouterr()
        code = run([str(a) for a in args])
        captured = self._capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    def ok(self, *args: str, stdin: str | None = None) -> Any:
        """Run with --json and return the parsed output; fail the test on a non-zero exit."""
        result = self(*args, "--json", stdin=stdin)
        assert result.code == 0, f"dialconf {' '.join(args)} exited {result.code}: {result.err}"
        return result.json()

    def uow(self) -> UnitOfWork:
        return make_uow(self.url)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, monkeypatch, capsys)


@pytest.fixture
def sqlite_cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(sqlite_url, monkeypatch, capsys)


def seed_tenant(cli: Cli, *, name: str = "contoso", mode: str = "static") -> None:
    """A tenant with one 7-digit bridge, a Seattle toll number (default) and a US toll-free number."""
    cli.ok("tenant", "create", name, "--domain", f"{name}.com")
    cli.ok("bridge", "create", name, "main")
    cli.ok("number", "add", name, "+14255550100", "--city", "Seattle")
    cli.ok("number", "add", name, "+18005550199", "--toll-free")
    if mode == "static":
        cli.ok("tenant", "set-id-mode", name, "static")


ENABLE_ADA = (
    "user", "enable", "ada@contoso.com", "--tenant", "contoso", "--email", "ada@contoso.com", "--name", "Ada",
)  # fmt: skip


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1, with the DIALCONF_SMTP_* variables pointing at it."""
    with smtp_server() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server
