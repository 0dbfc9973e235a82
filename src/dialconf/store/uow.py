"""The unit of work: one database transaction per use case, plus the clock, randomness and CalDAV it uses."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from random import Random
from types import TracebackType
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from dialconf.calendars.caldav import Connector

Clock = Callable[[], datetime]
# execution option of a connection whose transaction only reads (see store.db); its value
# SINGLE_STATEMENT means "one statement, no transaction around it" (see `UnitOfWork.statement`)
READ_ONLY = "dialconf_read_only"
SINGLE_STATEMENT = "statement"
_statement_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    """`with uow:` opens a transaction; the service calls `uow.commit()`; leaving without it rolls back.

    Blocks nest (only the outermost one opens and ends the transaction). A use case that reads, then
    writes, uses two blocks one after the other, `with uow.read():` then `with uow:`: on SQLite a read
    transaction cannot safely become a writing one.
    """

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        pin_key: Callable[[], bytes],
        clock: Clock = utcnow,
        rng: Random | None = None,
        public_url: str = "http://localhost:8080",
        caldav: Connector | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._pin_key = pin_key
        self.clock = clock
        self.rng: Random = rng if rng is not None else secrets.SystemRandom()
        self.public_url = public_url
        # builds the client of a tenant's CalDAV calendar; None: the real one (calendars.caldav.connect)
        self.caldav = caldav
        self._depth = 0
        self._read_only_next = False

    @property
    def pin_key(self) -> bytes:
        return self._pin_key()

    def read(self) -> UnitOfWork:
        """`with uow.read():` for a use case that only reads: on SQLite it does not take the write lock."""
        self._read_only_next = True
        return self

    def statement(self) -> Connection:
        """`with uow.statement() as conn:` for ONE reading statement, without a Session or a transaction.

        The lightest read there is (the dial-in hot path): a pooled connection, no ORM, and on SQLite
        no BEGIN / ROLLBACK around the statement, which one statement does not need to see one
        consistent state. Two statements in one such block may see different states: use `read()`.
        """
        bind = self._session_factory.kw["bind"]
        engine = _statement_engines.get(bind)
        if engine is None:
            engine = _statement_engines[bind] = bind.execution_options(**{READ_ONLY: SINGLE_STATEMENT})
        return engine.connect()

    def __enter__(self) -> UnitOfWork:
        read_only, self._read_only_next = self._read_only_next, False
        if self._depth == 0:
            if read_only:
                bind = self._session_factory.kw["bind"]
                self.session = self._session_factory(bind=bind.execution_options(**{READ_ONLY: True}))
            else:
                self.session = self._session_factory()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.session.rollback()
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def now(self) -> datetime:
        return self.clock()
