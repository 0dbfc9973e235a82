"""Bad input through the `dialconf` CLI: refused with exit code 1 and one clear line, and nothing changes.

Every test here runs against one shared copy of the seeded world (see conftest.py) and checks that,
after its refused command, every row of every table is exactly what it was when the module started:
a stronger check than comparing `user show`, `mail list` and `audit list`, and a cheaper one. A
command that wrongly changes anything fails its own test; the next test compares with what it left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.e2e.conftest import (
    ADA,
    ADMIN,
    BOB,
    DYN,
    FABRIKAM_TOLL,
    GRACE,
    HELPDESK,
    MAIN_FREE,
    MAIN_TOLL,
    SECOND_FREE,
    SECOND_TOLL,
    TP,
    World,
    database_state,
)

NEW = "newcomer@contoso.com"
ENABLE_NEW = ("user", "enable", NEW, "--tenant", "contoso", "--email", NEW, "--name", "New Comer")
ACP = ("--provider-name", "Acme", "--toll-number", "+14255550999", "--participant-passcode", "123456")
State = dict[str, list[tuple[Any, ...]]]


@dataclass
class Baseline:
    """The state every test of this module must leave the shared world in."""

    state: State


@pytest.fixture(scope="module")
def _baseline(_module_world_url: str) -> Baseline:
    return Baseline(database_state(_module_world_url))


@dataclass
class FrozenWorld(World):
    """The module's shared world and the state it must stay in."""

    baseline: Baseline


@pytest.fixture
def world(shared_world: World, _baseline: Baseline) -> FrozenWorld:
    """This module's `world` is the shared one: refusals must not change it, so there is no need to copy."""
    return FrozenWorld(shared_world.cli, shared_world.url, shared_world.facts, _baseline)


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV file with one good row, for imports that must be refused for another reason."""
    path = tmp_path_factory.mktemp("csv") / "users.csv"
    path.write_text("upn,email,name\nfresh@example.com,fresh@example.com,Fresh Face\n", encoding="utf-8")
    return path


def expand(args: tuple[str, ...], world: World, **extra: str) -> list[str]:
    """Fill the {placeholders} of a case with what the seeding learned (IDs are random per build)."""
    return [a.format(**world.facts, **extra) for a in args]


def assert_refused(world: FrozenWorld, args: list[str], *words: str, stdin: str | None = None) -> str:
    """Exit code 1, one line on stderr naming the problem, nothing on stdout, and no change at all."""
    result = world.cli(*args, stdin=stdin)
    shown = f"dialconf {' '.join(args)} -> exit {result.code}\nstdout: {result.out}\nstderr: {result.err}"
    assert result.code == 1, shown
    assert "Traceback" not in result.err and "internal error" not in result.err, shown
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialconf: "), shown
    for word in words:
        assert word.lower() in lines[0].lower(), f"{word!r} missing from the message\n{shown}"
    assert result.out == "", shown
    assert_unchanged(world, shown)
    return lines[0]


def assert_unchanged(world: FrozenWorld, shown: str) -> None:
    baseline = world.baseline
    after = world.state()
    if after != baseline.state:
        # blame this test only: the next one compares with what this one left behind
        changed = sorted(t for t in after if after[t] != baseline.state.get(t))
        baseline.state = after
        pytest.fail(
            f"the database changed (tables {', '.join(changed)}) although the action was refused\n{shown}"
        )


# --- conference IDs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("user", "set-conference-id", ADA, "12345"), ("12345", "5 digits", "7"), id="too-short"),
        pytest.param(
            ("user", "set-conference-id", ADA, "123456789"), ("123456789", "9 digits", "7"), id="too-long"
        ),
        pytest.param(("user", "set-conference-id", ADA, "12a4567"), ("12a4567", "digits only"), id="letters"),
        pytest.param((*ENABLE_NEW, "--conference-id", "12"), ("2 digits", "7"), id="enable-too-short"),
        pytest.param(
            ("user", "set-conference-id", TP, "123"), ("3 digits", "4 to 20"), id="third-party-short"
        ),
    ],
)
def test_malformed_or_wrong_length_conference_id_is_refused(
    world: FrozenWorld, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    assert_refused(world, expand(args, world), *words)


def test_personal_conference_id_is_refused_in_dynamic_mode(world: FrozenWorld) -> None:
    assert_refused(world, ["user", "set-conference-id", DYN, "2345678"], "dynamic", "static")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "set-conference-id", ADA, "{grace_id}"), id="set"),
        pytest.param((*ENABLE_NEW, "--conference-id", "{grace_id}"), id="enable"),
    ],
)
def test_conference_id_taken_by_another_user_is_refused(world: FrozenWorld, args: tuple[str, ...]) -> None:
    grace_id = world.facts["grace_id"]
    line = assert_refused(world, expand(args, world), grace_id, "already in use")
    assert world.cli.ok("user", "show", GRACE)["conference_id"] == grace_id, line


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "set-conference-id", ADA, "{grace_released_id}"), id="set"),
        pytest.param((*ENABLE_NEW, "--conference-id", "{grace_released_id}"), id="enable"),
    ],
)
def test_conference_id_released_by_a_reset_is_quarantined(world: FrozenWorld, args: tuple[str, ...]) -> None:
    # grace's first ID was released by a reset while the world was seeded
    released = world.facts["grace_released_id"]
    assert_refused(world, expand(args, world), released, "quarantined")


def test_conference_id_of_a_third_party_user_cannot_be_reset(world: FrozenWorld) -> None:
    assert_refused(world, ["user", "reset-conference-id", TP], TP, "third-party", "by hand")


def test_pin_of_a_third_party_user_cannot_be_reset(world: FrozenWorld) -> None:
    assert_refused(world, ["user", "reset-pin", TP], TP, "third-party")


# --- phone numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("number", "add", "contoso", "+1234"), ("+1234", "phone number"), id="add-too-short"),
        pytest.param((*ENABLE_NEW, "--toll-number", "+1234"), ("+1234", "phone number"), id="enable-toll"),
        pytest.param(
            ("user", "set-default-number", ADA, "--toll", "12"), ("12", "phone number"), id="set-default"
        ),
    ],
)
def test_invalid_phone_number_is_refused(
    world: FrozenWorld, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    assert_refused(world, list(args), *words)


@pytest.mark.parametrize(
    ("args", "number"),
    [
        pytest.param((*ENABLE_NEW, "--toll-number", SECOND_TOLL), SECOND_TOLL, id="enable-toll"),
        pytest.param(("user", "set-default-number", ADA, "--toll", SECOND_TOLL), SECOND_TOLL, id="set-toll"),
        pytest.param(
            ("user", "set-default-number", ADA, "--toll-free", SECOND_FREE), SECOND_FREE, id="set-toll-free"
        ),
        pytest.param(
            ("user", "set-default-number", ADA, "--toll", FABRIKAM_TOLL), FABRIKAM_TOLL, id="other-tenant"
        ),
    ],
)
def test_number_not_on_the_users_bridge_is_refused(
    world: FrozenWorld, args: tuple[str, ...], number: str
) -> None:
    assert_refused(world, list(args), number, "bridge", "main")


def test_toll_free_number_cannot_be_a_default_toll_number(world: FrozenWorld) -> None:
    assert_refused(world, ["user", "set-default-number", ADA, "--toll", MAIN_FREE], MAIN_FREE, "toll-free")


# --- unknown users and tenants -------------------------------------------------------------------

NOBODY = "nobody@contoso.com"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "show", NOBODY), id="show"),
        pytest.param(("user", "reset-conference-id", NOBODY), id="reset-conference-id"),
        pytest.param(("user", "set-default-number", NOBODY, "--toll", MAIN_TOLL), id="set-default-number"),
    ],
)
def test_unknown_upn_is_refused(world: FrozenWorld, args: tuple[str, ...]) -> None:
    assert_refused(world, list(args), NOBODY, "does not exist")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("tenant", "show", "nope"), id="tenant-show"),
        pytest.param(("tenant", "set", "nope", "--no-auto-email"), id="tenant-set"),
        pytest.param(
            ("user", "enable", "x@nope.com", "--tenant", "nope", "--email", "x@nope.com", "--name", "X"),
            id="user-enable",
        ),
        pytest.param(("user", "import", "{csv}", "--tenant", "nope"), id="user-import"),
    ],
)
def test_unknown_tenant_is_refused(world: FrozenWorld, good_csv: Path, args: tuple[str, ...]) -> None:
    assert_refused(world, expand(args, world, csv=str(good_csv)), "nope", "does not exist")


def test_unknown_admin_account_in_as_is_refused(world: FrozenWorld) -> None:
    assert_refused(
        world, ["--as", "ghost@contoso.com", "user", "show", ADA], "ghost@contoso.com", "does not exist"
    )


# --- roles: helpdesk -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("tenant", "set", "contoso", "--no-auto-email"), id="tenant-auto-email"),
        pytest.param(("number", "add", "contoso", "+14255550111"), id="number-add"),
        pytest.param(("user", "set-default-number", ADA, "--toll", MAIN_TOLL), id="user-default-number"),
        pytest.param(("user", "set-conference-id", ADA, "2345678"), id="user-choose-id"),
        pytest.param(("user", "disable", ADA), id="user-disable"),
        pytest.param(ENABLE_NEW, id="user-enable"),
    ],
)
def test_helpdesk_cannot_change_settings_or_users(world: FrozenWorld, args: tuple[str, ...]) -> None:
    assert_refused(world, ["--as", HELPDESK, *args], HELPDESK, "helpdesk", "may not")


def test_helpdesk_cannot_change_tenant_settings_when_named_by_dialconf_actor(
    world: FrozenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", HELPDESK)
    assert_refused(
        world, ["tenant", "set", "contoso", "--pin-length", "8"], "helpdesk", "may not", "settings"
    )


def test_helpdesk_cannot_switch_the_conference_id_mode(world: FrozenWorld) -> None:
    assert_refused(world, ["--as", HELPDESK, "tenant", "set-id-mode", "contoso", "dynamic"], "operator")


# --- roles: admin --------------------------------------------------------------------------------


def test_admin_cannot_switch_the_conference_id_mode(world: FrozenWorld) -> None:
    assert_refused(
        world,
        ["--as", ADMIN, "tenant", "set-id-mode", "contoso", "dynamic"],
        "operator",
        "conference id mode",
    )


def test_admin_cannot_switch_the_conference_id_mode_when_named_by_dialconf_actor(
    world: FrozenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    # static is the tenant's mode already: even asking for it is the operator's call
    assert_refused(world, ["tenant", "set-id-mode", "contoso", "static"], "operator", "conference id mode")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("tenant", "show", "fabrikam"), id="tenant-show"),
        pytest.param(("tenant", "set", "fabrikam", "--no-auto-email"), id="tenant-set"),
        pytest.param(("number", "add", "fabrikam", "+13125550111"), id="number-add"),
        pytest.param(
            (
                "user",
                "enable",
                "new@fabrikam.com",
                "--tenant",
                "fabrikam",
                "--email",
                "new@fabrikam.com",
                "--name",
                "New",
            ),
            id="user-enable",
        ),
        pytest.param(("user", "import", "{csv}", "--tenant", "fabrikam"), id="user-import"),
        pytest.param(("user", "bulk-reset-conference-id", "--tenant", "fabrikam"), id="bulk-reset"),
        pytest.param(("mail", "list", "--tenant", "fabrikam"), id="mail-list"),
    ],
)
def test_admin_of_one_tenant_cannot_touch_another_tenant(
    world: FrozenWorld, good_csv: Path, args: tuple[str, ...]
) -> None:
    assert_refused(
        world,
        ["--as", ADMIN, *expand(args, world, csv=str(good_csv))],
        # to contoso's admin another tenant does not exist, as a name nobody holds (the API's 404)
        "tenant 'fabrikam' does not exist",
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "show", BOB), id="show"),
        pytest.param(("user", "reset-conference-id", BOB), id="reset-conference-id"),
        pytest.param(("user", "reset-pin", BOB), id="reset-pin"),
        pytest.param(("user", "set-default-number", BOB, "--toll", FABRIKAM_TOLL), id="set-default-number"),
        pytest.param(("user", "disable", BOB), id="disable"),
    ],
)
def test_admin_of_one_tenant_cannot_touch_users_of_another(world: FrozenWorld, args: tuple[str, ...]) -> None:
    # tenants never see each other: another tenant's user is reported as unknown
    assert_refused(world, ["--as", ADMIN, *args], BOB, "does not exist")


def test_helpdesk_of_one_tenant_cannot_reset_users_of_another(world: FrozenWorld) -> None:
    assert_refused(world, ["--as", HELPDESK, "user", "reset-conference-id", BOB], BOB, "does not exist")


def test_admin_of_one_tenant_cannot_read_mail_of_another(world: FrozenWorld) -> None:
    bob_mail = world.cli.ok("mail", "list", "--tenant", "fabrikam")[0]["id"]
    assert_refused(world, ["--as", ADMIN, "mail", "show", str(bob_mail)], str(bob_mail), "does not exist")


# --- invalid settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(
            ("tenant", "set", "contoso", "--pin-length", "3"),
            ("pin length", "4 to 12", "not 3"),
            id="pin-too-short",
        ),
        pytest.param(("tenant", "set-id-mode", "contoso", "sideways"), ("sideways",), id="id-mode"),
        pytest.param(
            ("user", "reset-conference-id", ADA, "--to", "not-an-address"),
            ("not-an-address",),
            id="recipient",
        ),
        pytest.param(
            ("user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada Again"),
            (ADA, "already"),
            id="already-enabled",
        ),
    ],
)
def test_invalid_setting_or_value_is_refused(
    world: FrozenWorld, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    assert_refused(world, list(args), *words)


# --- out-of-range numbers and unreachable databases -------------------------------------------


@pytest.mark.parametrize("command", ["show", "retry"])
@pytest.mark.parametrize("mail_id", ["99999999999999999999", str(2**63), "0"])
def test_a_mail_id_out_of_range_names_no_mail(world: FrozenWorld, command: str, mail_id: str) -> None:
    # a number too large for the database's integers is no bug: it is simply not a mail
    assert_refused(world, ["mail", command, mail_id], f"mail {mail_id} does not exist")


def refused_alone(cli: Cli, *args: str) -> str:
    """Exit 1 with one 'dialconf: ...' line on stderr and nothing on stdout (there is no database to compare)."""
    result = cli(*args)
    shown = f"dialconf {' '.join(args)} -> exit {result.code}\nstdout: {result.out}\nstderr: {result.err}"
    assert result.code == 1, shown
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialconf: "), shown
    assert "internal error" not in result.err and result.out == "", shown
    return lines[0]


@pytest.mark.parametrize("args", [("tenant", "list"), ("user", "show", ADA)])
def test_a_database_in_a_folder_that_does_not_exist_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    path = tmp_path / "no" / "such" / "folder" / "dialconf.db"
    cli = Cli(f"sqlite:///{path}", monkeypatch, capsys)
    line = refused_alone(cli, *args)
    assert line == f"dialconf: cannot open the database at {path}: folder does not exist"
    assert not path.parent.exists()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_an_unreachable_postgresql_server_is_refused_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scheme: str
) -> None:
    # port 1 on the loopback: nothing listens there, so the connection is refused at once
    cli = Cli(f"{scheme}://dialer:s3cret-pw@127.0.0.1:1/dialconf?password=other-pw", monkeypatch, capsys)
    line = refused_alone(cli, "tenant", "list")
    assert line.startswith(
        f"dialconf: cannot connect to the database at {scheme}://dialer@127.0.0.1:1/dialconf: "
    )
    assert "refused" in line.lower()
    assert "s3cret-pw" not in line and "other-pw" not in line


# --- CSV files that cannot be imported ----------------------------------------------------------


def bad_csv(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(
            "upn,email,name\nok@contoso.com,ok@contoso.com,Ok\nbig@contoso.com,big@contoso.com,"
            + "x" * 140_000,
            ("users.csv line 3: a field is longer than 131072 characters",),
            id="field-over-128KiB",
        ),
        pytest.param(
            'upn,email,name\nq@contoso.com,q@contoso.com,"' + "x" * 140_000 + '"\n',
            ("users.csv line 2: a field is longer than 131072 characters",),
            id="quoted-field-over-128KiB",
        ),
        pytest.param(
            "upn,email,name,UPN\nok@contoso.com,ok@contoso.com,Ok,ok@contoso.com\n",
            ("users.csv: column 'upn' appears twice",),
            id="duplicate-column",
        ),
        pytest.param(
            "upn,name\nok@contoso.com,Ok\n", ("users.csv: missing column(s): email",), id="missing-column"
        ),
        pytest.param(
            "upn,email,name\nok@contoso.com,ok@contoso.com,Ok\x00\n",
            ("users.csv line 2: contains a NUL character",),
            id="nul-byte",
        ),
        pytest.param(
            b"upn,email,name\nok@contoso.com,ok@contoso.com,Ren\xe9\n",
            ("users.csv is not UTF-8 text",),
            id="latin-1",
        ),
    ],
)
def test_a_csv_file_that_cannot_be_read_is_refused_with_one_line(
    world: FrozenWorld, tmp_path: Path, content: str | bytes, words: tuple[str, ...]
) -> None:
    path = bad_csv(tmp_path, "users.csv", content)
    for dry_run in ([], ["--dry-run"]):
        assert_refused(world, ["user", "import", str(path), "--tenant", "contoso", *dry_run], *words)


# --- usage errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="no-command"),
        pytest.param(("frobnicate",), id="unknown-command"),
        pytest.param(("user", "show"), id="missing-argument"),
        pytest.param(("user", "list", "--tenant", "contoso", "--limit", "lots"), id="not-a-number"),
    ],
)
def test_usage_error_exits_2_without_traceback_or_change(world: FrozenWorld, args: tuple[str, ...]) -> None:
    result = world.cli(*args)
    shown = f"dialconf {' '.join(args)} -> exit {result.code}\nstdout: {result.out}\nstderr: {result.err}"
    assert result.code == 2, shown
    assert "Traceback" not in result.err and "internal error" not in result.err, shown
    assert "Usage" in result.err or "Usage" in result.out, shown
    assert_unchanged(world, shown)
