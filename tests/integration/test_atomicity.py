"""A use case is one transaction: a failure after the new ID is allocated changes nothing (DESIGN §5).

The failure is real, not mocked: a database trigger aborts the INSERT into `outbox` (or into
`audit_events`, the last write of a reset), so the service gets as far as the database lets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from dialconf.services import dialin, resets
from dialconf.store.db import make_engine
from dialconf.store.models import AuditEvent, Bridge, ConferenceIdRow, OutboxMail, User
from dialconf.store.uow import UnitOfWork
from tests.conftest import Cli, make_uow
from tests.integration.builders import OPERATOR, SEATTLE, count_rows, make_tenant, make_user


def _install_failing_trigger(engine: Engine, table: str) -> None:
    """Make every INSERT into `table` fail inside the database."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER inject_failure_{table} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER inject_failure_{table} BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION inject_failure()"
                )
            )


def _remove_failing_trigger(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                f"DROP TRIGGER inject_failure_{table}"
                + ("" if engine.dialect.name == "sqlite" else f" ON {table}")
            )
        )


def _snapshot(uow: UnitOfWork) -> dict[str, Any]:
    """Everything a reset touches, as plain values."""
    with uow:

        def rows(model: Any) -> list[tuple[Any, ...]]:
            table = model.__table__
            return [tuple(r) for r in uow.session.execute(select(table).order_by(table.c.id))]

        return {
            "users": rows(User),
            "conference_ids": rows(ConferenceIdRow),
            "bridges": rows(Bridge),
            "outbox": rows(OutboxMail),
            "audit": rows(AuditEvent),
        }


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[UnitOfWork, Engine, str]]:
    """A static-mode tenant with Ada enabled (welcome mail queued), and an engine for raw DDL."""
    uow = make_uow(database_url)
    make_tenant(uow)
    ada = make_user(uow, "ada@contoso.com").conference_id
    assert ada is not None
    engine = make_engine(database_url)
    yield uow, engine, ada
    engine.dispose()


@pytest.mark.parametrize("failing_table", ["outbox", "audit_events"])
def test_reset_that_fails_after_allocating_the_new_id_changes_nothing(
    world: tuple[UnitOfWork, Engine, str], failing_table: str
) -> None:
    uow, engine, old = world
    before = _snapshot(uow)
    assert len(before["outbox"]) == 1 and before["audit"]
    _install_failing_trigger(engine, failing_table)

    with pytest.raises(DBAPIError, match="injected failure"):
        resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=True)

    assert _snapshot(uow) == before
    still = dialin.lookup(uow, number=SEATTLE, digits=old, actor=OPERATOR)
    assert (still.result, still.upn) == ("join", "ada@contoso.com")

    # the trigger was the only thing in the way: without it the same reset goes through
    _remove_failing_trigger(engine, failing_table)
    done = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=True)
    assert done.previous_conference_id == old and done.conference_id != old
    assert count_rows(uow, OutboxMail) == len(before["outbox"]) + 1


def test_enabling_a_user_that_fails_after_allocating_the_id_creates_nothing(
    world: tuple[UnitOfWork, Engine, str],
) -> None:
    uow, engine, _ada = world
    before = _snapshot(uow)
    _install_failing_trigger(engine, "outbox")

    with pytest.raises(DBAPIError, match="injected failure"):
        make_user(uow, "bob@contoso.com")

    assert _snapshot(uow) == before
    assert count_rows(uow, User, User.upn == "bob@contoso.com") == 0


def test_reset_through_the_cli_fails_cleanly_and_changes_nothing(cli: Cli) -> None:
    uow = make_uow(cli.url)
    make_tenant(uow)
    old = make_user(uow, "ada@contoso.com").conference_id
    engine = make_engine(cli.url)
    before = _snapshot(uow)
    _install_failing_trigger(engine, "outbox")
    engine.dispose()

    result = cli("user", "reset-conference-id", "ada@contoso.com", "--json")

    # a database that refuses a write the service did not expect is a bug's exit (3), said in one line
    driver_error = {
        "sqlite": "IntegrityError: (sqlite3.IntegrityError)",
        "postgresql": "ProgrammingError: (psycopg.errors.RaiseException)",
    }[engine.dialect.name]
    assert (result.code, result.out) == (3, "")
    assert result.err == f"dialconf: internal error: {driver_error} injected failure\n"
    assert _snapshot(uow) == before
    assert cli.ok("user", "show", "ada@contoso.com")["conference_id"] == old
    lookup = cli.ok("dialin", "lookup", "--number", SEATTLE, "--digits", old)
    assert lookup["result"] == "join"
