"""Bulk resets: a dry run writes nothing, a real one asks first on a terminal and needs --yes elsewhere."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, Cli, seed_tenant
from tests.e2e.conftest import ADA, DYN, GRACE, TP, World, database_state

BULK = {"id": "bulk-reset-conference-id", "pin": "bulk-reset-pin"}


@pytest.mark.parametrize("kind", ["id", "pin"])
def test_bulk_dry_run_lists_who_would_change_and_writes_nothing(world: World, kind: str) -> None:
    before = world.state()
    text = world.cli("user", BULK[kind], "--tenant", "contoso", "--dry-run")
    assert text.code == 0, text.err
    assert ADA in text.out and GRACE in text.out and TP not in text.out  # builtin users only
    assert "would reset" in text.out and "nothing changed" in text.out

    plan = world.cli.ok("user", BULK[kind], "--tenant", "contoso", "--dry-run")
    assert plan["dry_run"] is True and plan["count"] == 2 and plan["email"] is True
    assert [u["upn"] for u in plan["users"]] == [ADA, GRACE]
    if kind == "id":
        assert {u["upn"]: u["conference_id"] for u in plan["users"]} == {
            ADA: world.facts["ada_id"],
            GRACE: world.facts["grace_id"],
        }
    assert world.state() == before


def test_bulk_reset_without_yes_on_a_non_terminal_stdin_is_refused_and_changes_nothing(world: World) -> None:
    before = world.state()
    for command in BULK.values():
        result = world.cli("user", command, "--tenant", "contoso", stdin="y\n")
        assert result.code == 1
        assert result.err == "dialconf: refusing to reset 2 users without confirmation; add --yes\n"
        assert result.out == ""
    assert world.state() == before


def test_bulk_reset_with_yes_names_each_user_and_shows_no_progress_on_a_pipe(world: World) -> None:
    ids = world.cli("user", "bulk-reset-conference-id", "--tenant", "contoso", "--no-email", "--yes")
    assert ids.code == 0 and ids.err == ""
    for upn in (ADA, GRACE):
        new = world.cli.ok("user", "show", upn)["conference_id"]
        assert [line for line in ids.out.splitlines() if upn in line and new in line]
    assert "reset the conference IDs of 2 users; 0 emails queued" in ids.out

    pins = world.cli("user", "bulk-reset-pin", "--tenant", "contoso", "--yes")
    assert pins.code == 0 and pins.err == ""
    assert len([line for line in pins.out.splitlines() if ADA in line or GRACE in line]) == 2
    assert "reset the PINs of 2 users; 2 emails queued" in pins.out


def test_bulk_reset_of_a_plan_leaves_out_users_enabled_after_it(world: World) -> None:
    from dialconf.domain.roles import Actor
    from dialconf.services import resets

    operator = Actor.operator()
    plan = resets.plan_bulk_reset(world.cli.uow(), tenant="contoso", actor=operator, action="conference_id")
    late = "late@contoso.com"
    world.cli.ok("user", "enable", late, "--tenant", "contoso", "--email", late, "--name", "Late")
    done = resets.bulk_reset_conference_ids(world.cli.uow(), tenant="contoso", actor=operator, plan=plan)
    assert [r.upn for r in done] == [ADA, GRACE]


def _dialconf_on_a_terminal(url: str, args: list[str], answer: str) -> tuple[int, str, str]:
    """Run the real `dialconf` with stdin and stderr on a pseudo-terminal; type `answer` at the prompt."""
    main, terminal = pty.openpty()
    env = {**os.environ, "DIALCONF_DATABASE_URL": url, "DIALCONF_SECRET_KEY": TEST_KEY, "COLUMNS": "100"}
    env.pop("DIALCONF_ACTOR", None)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dialconf"), *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    seen, answered = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(main, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    out = process.stdout.read().decode() if process.stdout else ""
    code = process.wait(timeout=60)
    os.close(main)
    return code, out, seen.decode(errors="replace")


def test_bulk_reset_on_a_terminal_asks_first_and_no_changes_nothing(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    for upn in (ADA, GRACE):
        sqlite_cli.ok("user", "enable", upn, "--tenant", "contoso", "--email", upn, "--name", "Some One")
    before = database_state(sqlite_cli.url)

    args = ["user", "bulk-reset-conference-id", "--tenant", "contoso"]
    code, out, terminal = _dialconf_on_a_terminal(sqlite_cli.url, args, "n")
    assert "Reset the conference IDs of 2 users in contoso and email them? [y/N]" in terminal
    assert code == 1 and out == ""
    assert database_state(sqlite_cli.url) == before

    code, out, terminal = _dialconf_on_a_terminal(sqlite_cli.url, [*args, "--no-email"], "y")
    assert "Reset the conference IDs of 2 users in contoso (no email will be sent)? [y/N]" in terminal
    assert code == 0, terminal
    assert "resetting" in terminal  # the progress bar, on the terminal
    for upn in (ADA, GRACE):
        new = sqlite_cli.ok("user", "show", upn)["conference_id"]
        assert [line for line in out.splitlines() if upn in line and new in line], out


def test_bulk_pin_reset_on_a_terminal_says_what_it_will_do_before_doing_it(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok("user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada")
    before = database_state(sqlite_cli.url)
    args = ["user", "bulk-reset-pin", "--tenant", "contoso"]
    code, _, terminal = _dialconf_on_a_terminal(sqlite_cli.url, args, "")
    assert "Reset the PINs of 1 user in contoso and email them? [y/N]" in terminal
    assert code == 1 and database_state(sqlite_cli.url) == before  # Enter means no

    code, out, _ = _dialconf_on_a_terminal(sqlite_cli.url, [*args, "--yes"], "")
    assert code == 0 and ADA in out and "reset the PINs of 1 user; 1 email queued" in out


def test_bulk_id_reset_of_a_dynamic_tenant_plans_no_email(world: World) -> None:
    plan = world.cli.ok("user", "bulk-reset-conference-id", "--tenant", "northwind", "--dry-run")
    assert [u["upn"] for u in plan["users"]] == [DYN]
    assert plan["mode"] == "dynamic" and plan["email"] is False  # meetings get new IDs; nobody is mailed
    assert plan["users"][0]["conference_id"] is None
