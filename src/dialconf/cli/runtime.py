"""What a CLI command needs to act: settings, the database, a unit of work and the actor."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from dialconf.config import ConfigError, Settings
from dialconf.domain.roles import Actor
from dialconf.services.admins import actor_for
from dialconf.store import migrate
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.uow import UnitOfWork


@dataclass
class Runtime:
    settings: Settings
    acting_as: str | None = None
    _checked: bool = field(default=False, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    def ensure_schema(self) -> None:
        """Upgrade the embedded SQLite database on the fly; ask PostgreSQL operators to run `db upgrade`."""
        if self._checked:
            return
        if not migrate.is_current(self.engine):
            if self.settings.is_embedded:
                migrate.upgrade(self.engine)
            else:
                raise ConfigError("the database schema is not up to date; run: dialconf db upgrade")
        self._checked = True

    def uow(self) -> UnitOfWork:
        self.ensure_schema()
        return UnitOfWork(
            make_session_factory(self.engine),
            pin_key=self._pin_key,
            public_url=self.settings.public_url,
        )

    @cached_property
    def _pin_key(self) -> Callable[[], bytes]:
        # read the key (a file on the embedded default) once per process, and only when a PIN needs it
        return functools.cache(self.settings.pin_key)

    @cached_property
    def actor(self) -> Actor:
        name = self.acting_as or self.settings.actor
        if not name:
            return Actor.operator()
        return actor_for(self.uow(), name)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
