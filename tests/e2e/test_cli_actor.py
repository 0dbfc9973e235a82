"""Every command checks who acts: an account that does not exist is refused, operator commands stay the operator's.

Every test runs against one shared copy of the seeded world and checks that the refused command left
every row of every table as it was: nothing is counted, queued or upgraded on a refused actor's behalf.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ADA, ADMIN, BOB, FABRIKAM_ADMIN, FABRIKAM_TOLL, HELPDESK, MAIN_TOLL, World

GHOST = "ghost@nowhere.com"
NOT_THERE = f"dialconf: admin account '{GHOST}' does not exist"


def refused(world: World, args: list[str]) -> str:
    """Run `args`; assert exit 1, one line on stderr, nothing on stdout and no change; return the line."""
    before = world.state()
    result = world.cli(*args)
    shown = f"dialconf {' '.join(args)} -> exit {result.code}\nstdout: {result.out}\nstderr: {result.err}"
    assert result.code == 1, shown
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, shown
    assert result.out == "", shown
    assert world.state() == before, f"the database changed although the command was refused\n{shown}"
    return lines[0]


def lookup_args(world: World, *, number: str = MAIN_TOLL, pin: str | None = None) -> list[str]:
    args = [
        "dialin",
        "lookup",
        "--number",
        number,
        "--digits",
        world.facts["ada_id"],
        "--caller",
        "+12065550111",
    ]
    return [*args, "--pin", pin] if pin else args


# one or more commands of every sub-app, reads and writes alike
EVERY_GROUP = [
    pytest.param(["tenant", "list"], id="tenant-list"),
    pytest.param(["tenant", "show", "contoso"], id="tenant-show"),
    pytest.param(["tenant", "set", "contoso", "--no-auto-email"], id="tenant-set"),
    pytest.param(["bridge", "show", "contoso"], id="bridge-show"),
    pytest.param(["number", "list", "contoso"], id="number-list"),
    pytest.param(["admin", "list", "--tenant", "contoso"], id="admin-list"),
    pytest.param(["user", "list", "--tenant", "contoso"], id="user-list"),
    pytest.param(["user", "show", ADA], id="user-show"),
    pytest.param(["user", "reset-pin", ADA], id="user-reset-pin"),
    pytest.param(["mail", "list"], id="mail-list"),
    pytest.param(["mail", "send-pending"], id="mail-send-pending"),
    pytest.param(["audit", "list"], id="audit-list"),
    pytest.param(["dialin", "lookup"], id="dialin-lookup"),
    pytest.param(["db", "upgrade"], id="db-upgrade"),
    pytest.param(["worker"], id="worker"),
]


@pytest.mark.parametrize("args", EVERY_GROUP)
def test_an_account_that_does_not_exist_is_refused_by_every_command(
    shared_world: World, args: list[str]
) -> None:
    command = lookup_args(shared_world, pin="12345") if args == ["dialin", "lookup"] else args
    assert refused(shared_world, ["--as", GHOST, *command]) == NOT_THERE


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["dialin", "lookup"], id="dialin-lookup"),
        pytest.param(["db", "upgrade"], id="db-upgrade"),
        pytest.param(["tenant", "list"], id="tenant-list"),
    ],
)
def test_an_account_named_by_dialconf_actor_that_does_not_exist_is_refused(
    shared_world: World, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", GHOST)
    command = lookup_args(shared_world) if args == ["dialin", "lookup"] else args
    assert refused(shared_world, command) == NOT_THERE


def test_up_refuses_an_account_that_does_not_exist(shared_world: World, tmp_path: Path) -> None:
    """`up` runs until stopped, so it runs as a real process here: a regression ends in a timeout, not a hang."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
    env.update(DIALCONF_DATABASE_URL=shared_world.url, DIALCONF_SECRET_KEY="x" * 32)
    before = shared_world.state()
    expected = {GHOST: NOT_THERE, ADMIN: f"dialconf: {ADMIN} is an admin and may not run database upgrades"}
    for account, line in expected.items():
        done = subprocess.run(
            [sys.executable, "-c", "from dialconf.cli.app import main; main()", "--as", account, "up"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(line), done.stderr
    assert shared_world.state() == before


@pytest.mark.parametrize("account", [ADMIN, HELPDESK])
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["db", "upgrade"], id="db-upgrade"),
        pytest.param(["worker"], id="worker"),
        pytest.param(["mail", "send-pending"], id="mail-send-pending"),
    ],
)
def test_operator_commands_are_refused_to_admin_and_helpdesk_accounts(
    shared_world: World, account: str, args: list[str]
) -> None:
    line = refused(shared_world, ["--as", account, *args])
    assert line.startswith(f"dialconf: {account} is ") and "may not run database upgrades" in line


@pytest.mark.parametrize("account", [ADMIN, HELPDESK])
def test_tenant_accounts_may_not_resolve_calls_and_nothing_is_counted(
    shared_world: World, account: str
) -> None:
    # a wrong PIN and a wrong ID would each be counted if the lookup went ahead
    line = refused(shared_world, ["--as", account, *lookup_args(shared_world, pin="00000")])
    assert (
        line
        == f"dialconf: {account} is {'an admin' if account == ADMIN else 'a helpdesk'} and may not resolve calls"
    )
    refused(
        shared_world,
        [
            "--as",
            account,
            "dialin",
            "lookup",
            "--number",
            MAIN_TOLL,
            "--digits",
            "1",
            "--caller",
            "+12065550111",
        ],
    )


def test_an_admin_cannot_resolve_or_lock_out_another_tenants_organizer(shared_world: World) -> None:
    bob_call = ["dialin", "lookup", "--number", FABRIKAM_TOLL, "--digits", shared_world.facts["bob_id"]]
    for _ in range(3):
        line = refused(shared_world, ["--as", ADMIN, *bob_call, "--pin", "00000", "--caller", "+12065550111"])
        assert "fabrikam" not in line and BOB not in line
    # fabrikam's own admin is refused the same way: resolving calls is the operator's (and later a PBX's)
    refused(shared_world, ["--as", FABRIKAM_ADMIN, *bob_call])
    assert shared_world.cli.ok(*bob_call)["upn"] == BOB
