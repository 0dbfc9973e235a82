"""What the benchmarks share: a fresh migrated SQLite file, a seeded tenant, a statement counter.

Not a benchmark itself (pytest never collects it: its name does not start with test_).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from dialconf.config import Settings
from dialconf.domain.roles import Actor
from dialconf.services import bridges, tenants
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.migrate import upgrade
from dialconf.store.uow import UnitOfWork

OPERATOR = Actor.operator("bench")


@dataclass
class Database:
    path: Path
    url: str
    engine: Engine

    def uow(self, **kwargs: Any) -> UnitOfWork:
        """A unit of work as the CLI builds one: the PIN key comes from the key file beside the database."""
        settings = Settings(database_url=self.url)
        return UnitOfWork(
            make_session_factory(self.engine),
            pin_key=settings.pin_key,
            public_url=settings.public_url,
            **kwargs,
        )


def fresh_database(directory: Path) -> Database:
    """A new SQLite file in `directory`, upgraded to the newest schema by Alembic."""
    path = directory / "bench.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    return Database(path=path, url=url, engine=engine)


def seed_tenant(
    db: Database, *, name: str = "contoso", id_length: int = 7, mode: str = "static", auto_email: bool = True
) -> None:
    """A tenant with one bridge, a default toll number and a toll-free number, as the tests set it up."""
    tenants.create_tenant(db.uow(), name=name, actor=OPERATOR, domain=f"{name}.com")
    bridges.create_bridge(db.uow(), tenant=name, name="main", actor=OPERATOR, id_length=id_length)
    bridges.add_number(db.uow(), tenant=name, number="+14255550100", actor=OPERATOR, city="Seattle")
    bridges.add_number(db.uow(), tenant=name, number="+18005550199", actor=OPERATOR, toll_free=True)
    if mode == "static":
        tenants.set_id_mode(db.uow(), name=name, mode="static", actor=OPERATOR)
    tenants.update_settings(db.uow(), name=name, actor=OPERATOR, auto_email=auto_email)


class StatementCounter:
    """Counts database round trips: every statement sent to the driver, plus every COMMIT.

    With `latency` (seconds) it also waits that long per round trip, to show what the same work
    would cost against a database across a network.
    """

    def __init__(self, engine: Engine, *, latency: float = 0.0) -> None:
        self.count = 0
        self.latency = latency
        event.listen(engine, "before_cursor_execute", self._on_statement)
        event.listen(engine, "commit", self._on_commit)

    def _on_statement(self, *_args: Any) -> None:
        self.count += 1
        if self.latency:
            time.sleep(self.latency)

    def _on_commit(self, *_args: Any) -> None:
        self._on_statement()

    def reset(self) -> None:
        self.count = 0


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t:` ... then t[0] holds the elapsed seconds."""
    elapsed: list[float] = []
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - start)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    import os

    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {_sqlite_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def sqlite_timestamp(value: datetime) -> str:
    """How SQLAlchemy stores a datetime in SQLite, for raw inserts that must read back the same."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
