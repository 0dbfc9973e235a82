"""The embedded SQLite set-up keeps PINs secret on disk: private files, and no erased PIN left behind."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from dialconf.config import SECRET_FILE_NAME, Settings
from dialconf.store.db import make_engine
from dialconf.store.migrate import upgrade
from tests.conftest import Cli, seed_tenant
from tests.support.outbox import outbox_rows
from tests.support.smtp import SmtpServer


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_database_its_wal_and_shm_files_and_the_key_file_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"
    with umask(0o022):  # the usual default, which would leave files readable by everyone
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as conn:  # an open connection keeps the -wal and -shm files
                conn.execute(text("SELECT count(*) FROM outbox"))
                files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
                assert all(f.exists() for f in files)
                assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        finally:
            engine.dispose()
        Settings(database_url=url).pin_key()
    assert mode(tmp_path / SECRET_FILE_NAME) == 0o600



def test_no_delivered_pin_is_left_in_the_database_file_or_its_wal(sqlite_cli: Cli, smtp: SmtpServer) -> None:
    db = Path(sqlite_cli.url.removeprefix("sqlite:///"))
    # a long-running process (the worker, `dialconf up`) keeps the WAL open: hold a connection the same way
    with contextlib.closing(sqlite3.connect(db)) as held:
        held.execute("SELECT count(*) FROM outbox").fetchall()
        seed_tenant(sqlite_cli)
        sqlite_cli.ok("user", "enable", "ada@contoso.com", "--tenant", "contoso", "--email", "ada@contoso.com",
                      "--name", "Ada Lovelace")  # fmt: skip
        sqlite_cli.ok("user", "reset-pin", "ada@contoso.com")
        assert sqlite_cli.ok("mail", "send-pending")["sent"] == 2

        pins = [
            m.group(1)
            for r in smtp.handler.messages()
            if (m := re.search(r"Your leader PIN: (\d+)", r.text()))
        ]
        assert len(pins) == 2
        assert all(r.redacted for r in outbox_rows(sqlite_cli.url))
        stored = b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists())
        assert b"Dial in, enter the conference ID" not in stored  # the bodies are gone, whatever the PIN
        for pin in pins:
            assert f"Your leader PIN: {pin}".encode() not in stored
            assert f">{pin}</span>".encode() not in stored
