"""On the embedded SQLite database, reading never waits behind a long write (WAL readers take no lock),
and a writer that waits too long is refused clearly."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from dialconf.domain.roles import Actor
from dialconf.services import tenants, users
from tests.conftest import ENABLE_ADA, Cli, make_uow, seed_tenant


def test_reads_go_on_while_another_transaction_holds_the_write_lock(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(*ENABLE_ADA)
    writer = make_uow(sqlite_cli.url)
    with writer:
        # a long import in another process looks like this: BEGIN IMMEDIATE, then writes
        writer.session.execute(text("UPDATE tenants SET pin_length = 6"))
        reader = make_uow(sqlite_cli.url)
        shown = tenants.show_tenant(reader, name="contoso", actor=Actor.operator())
        listed = users.list_users(reader, tenant="contoso", actor=Actor.operator())
        # the reader sees the last committed state, not the writer's uncommitted change
        assert shown.pin_length == 5
        assert [u.upn for u in listed] == ["ada@contoso.com"]
        writer.rollback()


def test_a_read_only_transaction_still_sees_what_was_committed_before_it(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok("tenant", "set", "contoso", "--pin-length", "7")
    assert (
        tenants.show_tenant(make_uow(sqlite_cli.url), name="contoso", actor=Actor.operator()).pin_length == 7
    )


BUSY = "dialconf: the database is busy (another dialconf command is writing); try again"


def _enable_ada(cli: Cli) -> str:
    seed_tenant(cli)
    enabled = cli.ok(*ENABLE_ADA)
    return str(enabled["conference_id"])


@contextmanager
def _write_lock_held(url: str) -> Iterator[None]:
    """Another process in the middle of a long import: its transaction holds SQLite's write lock."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE tenants SET pin_length = pin_length")
        yield
    finally:
        conn.rollback()
        conn.close()


def test_a_call_that_resolves_does_not_wait_for_an_import_holding_the_write_lock(sqlite_cli: Cli) -> None:
    ada_id = _enable_ada(sqlite_cli)
    with _write_lock_held(sqlite_cli.url):
        started = time.monotonic()
        answer = sqlite_cli("dialin", "lookup", "--number", "+14255550100", "--digits", ada_id, "--json")
        waited = time.monotonic() - started
    assert answer.code == 0, answer.err
    assert answer.json()["upn"] == "ada@contoso.com"
    # DESIGN / issue bound: a long import must not delay a caller by more than a second
    assert waited < 1.0, f"the lookup waited {waited:.1f} s behind the import"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("tenant", "set", "contoso", "--pin-length", "6"), id="tenant-set"),
        pytest.param(
            ("dialin", "lookup", "--number", "+14255550100", "--digits", "1"), id="wrong-id-to-count"
        ),
    ],
)
def test_a_writer_waiting_past_the_busy_timeout_is_refused_with_exit_1(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    _enable_ada(sqlite_cli)
    monkeypatch.setenv("DIALCONF_SQLITE_BUSY_TIMEOUT_MS", "200")
    with _write_lock_held(sqlite_cli.url):
        refused = sqlite_cli(*args)
    assert (refused.code, refused.out) == (1, "")
    assert refused.err.strip().splitlines() == [BUSY]
    # once the lock is gone the same command goes through
    assert sqlite_cli(*args).code == 0
