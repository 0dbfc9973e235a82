"""What a CLI command needs to act: settings, the database, a unit of work and the actor.

SQLAlchemy, the models and Alembic are imported when a command first touches the database, so that
parsing and --help stay fast; Alembic only when the schema is checked.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dialconf.config import ConfigError, Settings, data_dir
from dialconf.domain.roles import Actor, Permission
from dialconf.errors import AdminNotFound

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from dialconf.store.uow import UnitOfWork


@dataclass
class Runtime:
    settings: Settings
    acting_as: str | None = None
    _checked: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        """The database, once the actor is known to exist: no command touches it on a ghost's behalf."""
        self.actor  # noqa: B018 - resolving the actor is the check
        return self._engine

    @cached_property
    def _engine(self) -> Engine:
        from dialconf.store.db import make_engine

        if self.settings.uses_data_dir():
            data_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
        return make_engine(
            self.settings.database_url,
            sqlite_busy_timeout_ms=self.settings.sqlite_busy_timeout_ms,
            on_create=_announce_new_database,
        )

    def database_missing(self) -> bool:
        """Whether the database is a SQLite file that does not exist yet (looking creates nothing)."""
        path = self.settings.sqlite_path()
        return path is not None and not path.exists()

    @property
    def reader(self) -> Engine:
        """The engine for a look that writes nothing, once the actor is known to exist."""
        self.actor  # noqa: B018 - resolving the actor is the check
        return self._reader

    @property
    def _reader(self) -> Engine:
        """The engine for a look that writes nothing: on SQLite it does not wait behind a writer."""
        from dialconf.store.uow import READ_ONLY

        return self._engine.execution_options(**{READ_ONLY: True})

    def ensure_schema(self) -> None:
        """Upgrade the embedded SQLite database on the fly; ask PostgreSQL operators to run `db upgrade`."""
        if self._checked:
            return
        from dialconf.store import migrate

        engine = self.engine
        if not migrate.is_current(self._reader):
            if self.settings.is_embedded:
                migrate.upgrade(engine)
            else:
                raise ConfigError("the database schema is not up to date; run: dialconf db upgrade")
        self._checked = True

    def uow(self) -> UnitOfWork:
        self.ensure_schema()
        return self._uow()

    def _uow(self) -> UnitOfWork:
        from dialconf.store.uow import UnitOfWork

        return UnitOfWork(self._session_factory, pin_key=self._pin_key, public_url=self.settings.public_url)

    @cached_property
    def _session_factory(self) -> sessionmaker[Session]:
        # one per process: `dialconf agi` and `dialconf up` build a unit of work per call
        from dialconf.store.db import make_session_factory

        return make_session_factory(self._engine)

    @cached_property
    def _pin_key(self) -> Callable[[], bytes]:
        # read the key (a file on the embedded default) once per process, and only when a PIN needs it
        return functools.cache(self.settings.pin_key)

    @cached_property
    def actor(self) -> Actor:
        """Who acts: the operator, or the admin account named by --as / DIALCONF_ACTOR, which must exist."""
        name = self.acting_as or self.settings.actor
        if not name:
            return Actor.operator()
        from sqlalchemy import inspect

        from dialconf.services.admins import actor_for
        from dialconf.store.models import AdminAccount

        # a database without the schema yet (before the first `db upgrade`) has no accounts at all;
        # a SQLite file that does not exist has none either, and is not created just to say so
        if self.database_missing() or not inspect(self._reader).has_table(AdminAccount.__tablename__):
            raise AdminNotFound(name)
        return actor_for(self._uow(), name)

    def require(self, permission: Permission) -> Actor:
        """The actor, if it may do `permission` (e.g. the operator's own commands); else Forbidden."""
        from dialconf.services.common import require

        actor = self.actor
        require(actor, permission)
        return actor

    def close(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()


def _announce_new_database(path: Path) -> None:
    # stderr: a --json document on stdout stays the only thing there
    print(f"dialconf: created a new database at {path}", file=sys.stderr)
