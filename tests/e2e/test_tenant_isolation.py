"""A tenant admin learns nothing of another tenant, and cannot take anything from it, through any command.

Each case runs one command twice as contoso's admin: once aimed at something fabrikam holds (its
user, the tenant itself, its number, its mail, its admin account), once at a name nobody holds.
The two answers must be the same, word for word once the two names are put in the same place, and
no fabrikam data may appear in them; neither run may change anything. (`dialin lookup` has its
own isolation tests.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.e2e.conftest import ADA, ADMIN, BOB, FABRIKAM_ADMIN, FABRIKAM_TOLL, PASSWORD, World

GHOST_USER = "ghost@fabrikam.com"  # in fabrikam's domain, but nobody signs in with it
GHOST_TENANT = "ghosttown"
GHOST_NUMBER = "+13125550111"  # on nobody's bridge
GHOST_ADMIN = "ghost-admin@fabrikam.com"
SQUATTED = "ceo@fabrikam.com"


@dataclass(frozen=True)
class Target:
    """What fabrikam holds, and a name of the same kind that nobody holds."""

    kind: str
    real: str
    ghost: str


def _targets(world: World) -> dict[str, Target]:
    fabrikam_mail = world.cli.ok("mail", "list", "--tenant", "fabrikam")[0]["id"]
    last_mail = max(m["id"] for m in world.cli.ok("mail", "list"))
    return {
        "user": Target("user", BOB, GHOST_USER),
        "tenant": Target("tenant", "fabrikam", GHOST_TENANT),
        "number": Target("number", FABRIKAM_TOLL, GHOST_NUMBER),
        "mail": Target("mail", str(fabrikam_mail), str(last_mail + 1000)),
        "admin": Target("admin", FABRIKAM_ADMIN, GHOST_ADMIN),
    }


ACP = ("--provider-name", "Acme", "--toll-number", "+14255550999", "--participant-passcode", "123456")
CSV = "{csv}"  # replaced by a file whose one row signs in with the target name


def _enable(upn: str, tenant: str = "contoso", *extra: str) -> tuple[str, ...]:
    return ("user", "enable", upn, "--tenant", tenant, "--email", upn, "--name", "Squatter", *extra)


# (target kind, command with {t} for the target); every case answers the same for both names
CASES = [
    # fabrikam's user, named to contoso's admin
    pytest.param("user", ("user", "show", "{t}"), id="user-show"),
    pytest.param("user", ("user", "reset-conference-id", "{t}"), id="user-reset-conference-id"),
    pytest.param("user", ("user", "reset-pin", "{t}"), id="user-reset-pin"),
    pytest.param("user", ("user", "send-info", "{t}"), id="user-send-info"),
    pytest.param("user", ("user", "set-conference-id", "{t}", "2357913"), id="user-set-conference-id"),
    pytest.param("user", ("user", "disable", "{t}"), id="user-disable"),
    pytest.param(
        "user", ("user", "set-default-number", "{t}", "--toll", FABRIKAM_TOLL), id="user-set-default-number"
    ),
    pytest.param("user", ("user", "set-acp", "{t}", *ACP), id="user-set-acp"),
    pytest.param("user", ("user", "list", "--tenant", "contoso", "--search", "{t}"), id="user-list-search"),
    pytest.param("user", ("audit", "list", "--target", "{t}"), id="audit-list-target"),
    # squatting: enabling or importing a sign-in name of fabrikam's domain into contoso
    pytest.param("user", _enable("{t}"), id="user-enable-foreign-sign-in-name"),
    pytest.param("user", ("user", "import", CSV, "--tenant", "contoso", "--dry-run"), id="import-dry-run"),
    pytest.param("user", ("user", "import", CSV, "--tenant", "contoso"), id="import"),
    pytest.param(
        "admin", ("admin", "create", "{t}", "--tenant", "contoso", "--role", "admin"), id="admin-create"
    ),
    # fabrikam itself
    pytest.param("tenant", ("tenant", "show", "{t}"), id="tenant-show"),
    pytest.param("tenant", ("tenant", "set", "{t}", "--no-auto-email"), id="tenant-set"),
    pytest.param(
        "tenant", ("tenant", "set", "{t}", "--email-from", "x@contoso.com"), id="tenant-set-email-from"
    ),
    pytest.param("tenant", ("tenant", "set-id-mode", "{t}", "dynamic"), id="tenant-set-id-mode"),
    pytest.param("tenant", ("tenant", "add-domain", "{t}", "contoso.net"), id="tenant-add-domain"),
    pytest.param("tenant", ("tenant", "remove-domain", "{t}", "fabrikam.com"), id="tenant-remove-domain"),
    pytest.param("tenant", ("bridge", "show", "{t}"), id="bridge-show"),
    pytest.param("tenant", ("bridge", "show", "{t}", "main"), id="bridge-show-main"),
    pytest.param("tenant", ("bridge", "create", "{t}", "extra"), id="bridge-create"),
    pytest.param("tenant", ("number", "list", "{t}"), id="number-list"),
    pytest.param("tenant", ("number", "add", "{t}", "+13125550122"), id="number-add"),
    pytest.param("tenant", ("number", "set-default", "{t}", FABRIKAM_TOLL), id="number-set-default"),
    pytest.param("tenant", ("number", "remove", "{t}", FABRIKAM_TOLL), id="number-remove"),
    pytest.param("tenant", ("admin", "list", "--tenant", "{t}"), id="admin-list"),
    pytest.param(
        "tenant",
        ("admin", "create", "new@{t}.com", "--tenant", "{t}", "--role", "admin"),
        id="admin-create-in",
    ),
    pytest.param("tenant", ("audit", "list", "--tenant", "{t}"), id="audit-list"),
    pytest.param("tenant", ("mail", "list", "--tenant", "{t}"), id="mail-list"),
    pytest.param("tenant", ("user", "list", "--tenant", "{t}"), id="user-list"),
    pytest.param("tenant", ("user", "export", "--tenant", "{t}"), id="user-export"),
    pytest.param("tenant", _enable("new@{t}.com", "{t}"), id="user-enable-in"),
    pytest.param("tenant", ("user", "import", CSV, "--tenant", "{t}", "--dry-run"), id="import-into"),
    pytest.param(
        "tenant", ("user", "bulk-reset-conference-id", "--tenant", "{t}"), id="bulk-reset-conference-id"
    ),
    pytest.param("tenant", ("user", "bulk-reset-pin", "--tenant", "{t}"), id="bulk-reset-pin"),
    # fabrikam's number, named inside contoso
    pytest.param("number", ("number", "add", "contoso", "{t}"), id="number-add-taken"),
    pytest.param("number", ("number", "set-default", "contoso", "{t}"), id="number-set-default-foreign"),
    pytest.param("number", ("number", "remove", "contoso", "{t}"), id="number-remove-foreign"),
    pytest.param(
        "number", ("user", "set-default-number", ADA, "--toll", "{t}"), id="user-default-number-foreign"
    ),
    pytest.param(
        "number", _enable("new@contoso.com", "contoso", "--toll-number", "{t}"), id="user-enable-number"
    ),
    # fabrikam's mail
    pytest.param("mail", ("mail", "show", "{t}"), id="mail-show"),
    pytest.param("mail", ("mail", "retry", "{t}"), id="mail-retry"),
]

# what contoso's admin must never read, whatever the command (the target's own name aside)
FABRIKAM_SECRETS = ("Bob Builder", "Chicago", "312 555", "admin@fabrikam.com", "fabrikam.com:")


def _csv(tmp_path: Path, upn: str) -> Path:
    path = tmp_path / f"{upn.replace('@', '_at_')}.csv"
    path.write_text(f"upn,email,name\n{upn},{upn},Some One\n", encoding="utf-8")
    return path


def _run(world: World, tmp_path: Path, command: tuple[str, ...], name: str) -> CliResult:
    args = [a.replace("{t}", name).replace(CSV, str(_csv(tmp_path, name))) for a in command]
    stdin = PASSWORD + "\n" if command[:2] == ("admin", "create") else None
    return world.cli("--as", ADMIN, *args, stdin=stdin)


def _same_place(text: str, target: Target, tmp_path: Path) -> str:
    for name in sorted((target.real, target.ghost), key=len, reverse=True):  # ghost-admin@ before admin@
        text = text.replace(str(_csv(tmp_path, name)), "<CSV>").replace(name, "<TARGET>")
    return text


@pytest.mark.parametrize(("kind", "command"), CASES)
def test_contoso_admin_gets_the_same_answer_for_fabrikams_things_as_for_names_nobody_holds(
    world: World, tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    target = _targets(world)[kind]
    before = world.state()

    real = _run(world, tmp_path, command, target.real)
    assert world.state() == before, f"{command} on fabrikam's {kind} changed the database"
    ghost = _run(world, tmp_path, command, target.ghost)
    assert world.state() == before, f"{command} on a {kind} nobody holds changed the database"

    shown = f"{command}\nfabrikam's: exit {real.code}\n{real.out}{real.err}\nnobody's: exit {ghost.code}\n{ghost.out}{ghost.err}"
    assert "internal error" not in real.err + ghost.err, shown
    assert real.code == ghost.code, shown
    assert _same_place(real.err, target, tmp_path) == _same_place(ghost.err, target, tmp_path), shown
    assert _same_place(real.out, target, tmp_path) == _same_place(ghost.out, target, tmp_path), shown
    for secret in (*FABRIKAM_SECRETS, world.facts["bob_id"]):
        if secret not in " ".join(command).replace("{t}", target.real):
            assert secret not in real.out + real.err, f"{secret!r} leaked\n{shown}"


def test_a_tenant_admin_cannot_squat_a_sign_in_name_of_another_tenants_domain(world: World) -> None:
    squat = world.cli("--as", ADMIN, *_enable(SQUATTED))
    assert squat.code == 1
    assert squat.err.strip() == (
        f"dialconf: sign-in name '{SQUATTED}' must end in one of tenant 'contoso''s domains: contoso.com"
    )
    # the name is still fabrikam's to give
    enabled = world.cli.ok("--as", FABRIKAM_ADMIN, *_enable(SQUATTED, "fabrikam"))
    assert enabled["upn"] == SQUATTED and enabled["tenant"] == "fabrikam"


def test_enabling_a_name_another_tenant_holds_is_refused_like_any_foreign_name(world: World) -> None:
    # the operator too: the refusal speaks of the tenant's domains, not of the other tenant's user
    taken = world.cli(*_enable(BOB))
    free = world.cli(*_enable(GHOST_USER))
    assert taken.code == free.code == 1
    assert taken.err.replace(BOB, "<U>") == free.err.replace(GHOST_USER, "<U>")
    assert "already" not in taken.err and "must end in one of tenant 'contoso''s domains" in taken.err


def test_import_dry_run_reports_foreign_names_by_domain_never_as_existing(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        f"upn,email,name\nnew@contoso.com,new@contoso.com,New\n{BOB},{BOB},Bob\n{GHOST_USER},{GHOST_USER},Ghost\n",
        encoding="utf-8",
    )
    result = world.cli("--as", ADMIN, "user", "import", str(path), "--tenant", "contoso", "--dry-run")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert lines[0] == "dialconf: 2 bad row(s); nothing was imported"
    assert lines[1:] == [
        f"line 3: sign-in name '{BOB}' must end in one of tenant 'contoso''s domains: contoso.com",
        f"line 4: sign-in name '{GHOST_USER}' must end in one of tenant 'contoso''s domains: contoso.com",
    ]


@pytest.mark.parametrize(
    "command",
    [("tenant", "list"), ("mail", "list"), ("audit", "list")],
    ids=["tenant-list", "mail-list", "audit-list"],
)
def test_listing_without_a_tenant_shows_only_the_admins_own_tenant(
    world: World, command: tuple[str, ...]
) -> None:
    listed = world.cli.ok("--as", ADMIN, *command)
    assert listed, f"{command} showed nothing at all"
    assert {row.get("tenant", row.get("name")) for row in listed} == {"contoso"}
    text = world.cli("--as", ADMIN, *command).out
    for other in ("fabrikam", "northwind", "Bob Builder"):
        assert other not in text
