"""Engines and sessions: SQLite with WAL and a busy timeout, or PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dialconf.errors import DatabaseBusy, DatabaseUnavailable, DialconfError

# how long a SQLite writer waits for another one to finish before it gives up
SQLITE_BUSY_TIMEOUT_MS = 30_000


def refusal_for(exc: BaseException) -> DialconfError | None:
    """The refusal an entry point shows for a database error that is not a bug, or None."""
    return DatabaseBusy() if is_busy(exc) else None


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is SQLite giving up on the write lock (SQLITE_BUSY) after the busy timeout."""
    if not isinstance(exc, OperationalError) or not isinstance(exc.orig, sqlite3.OperationalError):
        return False
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_BUSY or (code is None and "database is locked" in str(exc.orig))


def normalise_url(url: str) -> str:
    """Let people write postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    url: str,
    *,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    on_create: Callable[[Path], None] | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for `url`; a new SQLite file is created (mode 600) first, and `on_create` told its path."""
    given, url = url, normalise_url(url)
    if url.startswith("sqlite"):
        created = _create_private(url)
        if created is not None and on_create is not None:
            on_create(created)
        engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000}, **kwargs)
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _explain_connect_failures(engine, given)
    return engine


def _explain_connect_failures(engine: Engine, given_url: str) -> None:
    """A database that cannot be opened or reached is an expected failure (DatabaseUnavailable), not a bug."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # only a failed connect: an error on an open connection (a lock, a constraint) is another matter,
        # and a failed pre-ping is retried by the pool on a new connection
        if context.connection is not None or context.is_pre_ping:
            return
        reason = _first_line(context.original_exception)
        if engine.dialect.name == "sqlite":
            path = engine.url.database or ""
            if path and path != ":memory:" and not Path(path).parent.is_dir():
                reason = "folder does not exist"
            elif "unable to open database file" not in reason:
                return  # e.g. a lock while setting the journal mode: not this case
            raise DatabaseUnavailable(f"cannot open the database at {path}: {reason}")
        raise DatabaseUnavailable(f"cannot connect to the database at {shown_url(given_url)}: {reason}")


def shown_url(url: str) -> str:
    """The URL without its password or query (which may carry one): safe to print and log."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(unparsable URL)"
    # _replace, not set(): set() takes a None password to mean "leave it as it is"
    bare = parsed.difference_update_query(list(parsed.query))._replace(password=None)
    return bare.render_as_string(hide_password=False)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text.removeprefix("connection failed: ")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # let SQLAlchemy drive transactions; pysqlite's own BEGIN handling would defer the write lock
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # what is deleted or overwritten (a PIN email's body) is zeroed, not left in free space
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # a writing transaction takes the write lock up front: a deferred one that reads, then writes,
        # can fail with SQLITE_BUSY under WAL however long the busy timeout is; a reading one needs
        # no lock at all under WAL, so it never waits behind a long import
        # a single reading statement (UnitOfWork.statement) runs in SQLite's own implicit transaction
        read_only = conn.get_execution_options().get("dialconf_read_only", False)
        if read_only != "statement":
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _create_private(url: str) -> Path | None:
    """Create a new SQLite database file readable by its owner only; its -wal and -shm files inherit the mode.

    Returns the path of the file this call created, or None when it existed already (or is not a file).
    """
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return None  # another process created it first, the same way
    except OSError:
        return None  # a missing folder and the like: connecting reports it
    return Path(path).absolute()


def purge_erased(bind: Engine | Connection) -> None:
    """After erasing data on SQLite, write the WAL into the database file and empty it, so no old copy stays.

    With secure_delete the erased bytes are zeroed in the new page versions; the WAL still holds the
    old versions until a checkpoint copies the new ones over and truncates it. The checkpoint waits
    (up to the busy timeout) for readers of older versions; if they outlast it, it stays partial and
    the next one, or the last connection to close, completes it.
    """
    engine = bind.engine
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
