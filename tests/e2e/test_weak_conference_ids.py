"""A chosen conference ID that anyone would guess first is refused unless the admin insists (--allow-weak)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.e2e.conftest import ADA, ADMIN, TP, World

NEW = "newcomer@contoso.com"
ENABLE_NEW = ("user", "enable", NEW, "--tenant", "contoso", "--email", NEW, "--name", "New Comer")


def refused_as_weak(result: CliResult, digits: str) -> None:
    assert result.code == 1, f"exit {result.code}\n{result.out}{result.err}"
    assert result.err.startswith(f"dialconf: conference ID {digits} is trivially guessable (")
    assert "--allow-weak" in result.err and result.out == ""


@pytest.mark.parametrize("digits", ["1111111", "1234567", "7654321", "8901234"])
def test_set_conference_id_refuses_a_guessable_id_and_takes_it_with_allow_weak(
    world: World, digits: str
) -> None:
    before = world.state()
    refused_as_weak(world.cli("--as", ADMIN, "user", "set-conference-id", ADA, digits), digits)
    assert world.state() == before
    taken = world.cli.ok("--as", ADMIN, "user", "set-conference-id", ADA, digits, "--allow-weak")
    assert taken["conference_id"] == digits
    assert world.cli.ok("user", "show", ADA)["conference_id"] == digits


def test_a_memorable_id_needs_no_insisting(world: World) -> None:
    assert world.cli.ok("user", "set-conference-id", ADA, "5555000")["conference_id"] == "5555000"


def test_enable_refuses_a_guessable_chosen_id_and_takes_it_with_allow_weak(world: World) -> None:
    before = world.state()
    refused_as_weak(world.cli(*ENABLE_NEW, "--conference-id", "2222222"), "2222222")
    assert world.state() == before
    enabled = world.cli.ok(*ENABLE_NEW, "--conference-id", "2222222", "--allow-weak")
    assert enabled["conference_id"] == "2222222"


def test_a_third_party_providers_id_is_theirs_and_never_judged(world: World) -> None:
    assert world.cli.ok("user", "set-conference-id", TP, "11111111")["conference_id"] == "11111111"


def test_import_reports_guessable_ids_by_line_and_takes_them_all_with_allow_weak(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        "upn,email,name,conference_id\n"
        "one@contoso.com,one@contoso.com,One,3456789\n"
        "two@contoso.com,two@contoso.com,Two,5555000\n"
        "three@contoso.com,three@contoso.com,Three,6666666\n",
        encoding="utf-8",
    )
    before = world.state()
    for dry_run in (("--dry-run",), ()):
        result = world.cli("user", "import", str(path), "--tenant", "contoso", *dry_run)
        assert result.code == 1
        assert result.err.splitlines() == [
            "dialconf: 2 bad row(s); nothing was imported",
            "line 2: conference ID 3456789 is trivially guessable (a straight ascending run); "
            "choose another, or insist with --allow-weak",
            "line 4: conference ID 6666666 is trivially guessable (one digit repeated); "
            "choose another, or insist with --allow-weak",
        ]
    assert world.state() == before
    checked = world.cli.ok("user", "import", str(path), "--tenant", "contoso", "--dry-run", "--allow-weak")
    assert checked["dry_run"] is True and checked["imported"] == 0
    imported = world.cli.ok("user", "import", str(path), "--tenant", "contoso", "--allow-weak")
    assert imported["imported"] == 3
    assert world.cli.ok("user", "show", "three@contoso.com")["conference_id"] == "6666666"
