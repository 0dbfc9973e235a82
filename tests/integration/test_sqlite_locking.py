"""On the embedded SQLite database, reading never waits behind a long write (WAL readers take no lock)."""

from __future__ import annotations

from sqlalchemy import text

from dialconf.domain.roles import Actor
from dialconf.services import tenants, users
from tests.conftest import Cli, make_uow, seed_tenant


def test_reads_go_on_while_another_transaction_holds_the_write_lock(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(
        "user",
        "enable",
        "ada@contoso.com",
        "--tenant",
        "contoso",
        "--email",
        "ada@contoso.com",
        "--name",
        "Ada",
    )
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
