"""Names are data, never markup: whatever a name holds is printed as typed, and hidden characters never get in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import MAIN_TOLL, World

UPN = "x[/y]@contoso.com"
NAME = "Eve [/x] Evil"


@pytest.fixture
def eve(world: World, monkeypatch: pytest.MonkeyPatch) -> dict:
    # wide enough that no table column is shortened with an ellipsis
    monkeypatch.setenv("COLUMNS", "400")
    enabled = world.cli("user", "enable", UPN, "--tenant", "contoso", "--email", "eve@contoso.com",
                        "--name", NAME)  # fmt: skip
    assert enabled.code == 0, enabled.err
    assert UPN in enabled.out and NAME in enabled.out
    return world.cli.ok("user", "show", UPN)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "command",
    [
        ("user", "show", UPN),
        ("user", "list", "--tenant", "contoso"),
        ("user", "list", "--tenant", "contoso", "--search", "[/x]"),
        ("audit", "list"),
        ("audit", "list", "--target", UPN),
    ],
)
def test_a_name_and_sign_in_name_with_markup_brackets_print_verbatim(
    world: World, eve: dict, command: tuple[str, ...]
) -> None:
    result = world.cli(*command)
    assert result.code == 0, result.err
    assert UPN in result.out
    if command[0] == "user":
        assert NAME in result.out


def test_mail_list_and_mail_show_print_the_name_verbatim(world: World, eve: dict) -> None:
    [welcome] = [m for m in world.cli.ok("mail", "list") if m["to"] == "eve@contoso.com"]
    listed = world.cli("mail", "list")
    assert listed.code == 0 and "eve@contoso.com" in listed.out
    shown = world.cli("mail", "show", str(welcome["id"]))
    assert shown.code == 0, shown.err
    assert NAME in shown.out


def test_each_command_message_prints_the_sign_in_name_verbatim(world: World, eve: dict) -> None:
    reset = world.cli("user", "reset-conference-id", UPN, "--no-email")
    assert reset.code == 0 and reset.out.startswith(f"{UPN}: new conference ID"), reset.out
    new_id = world.cli.ok("user", "show", UPN)["conference_id"]
    lookup = world.cli("dialin", "lookup", "--number", MAIN_TOLL, "--digits", f"{new_id}#")
    assert lookup.code == 0 and f"(organizer {UPN}," in lookup.out, lookup.out
    disabled = world.cli("user", "disable", UPN, "--no-email")
    assert disabled.code == 0 and disabled.out.startswith(f"{UPN}: "), disabled.out


def test_rich_emoji_codes_and_style_tags_in_a_name_stay_text(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    name = "Zoë :smile: [bold]O'Brien[/bold] [link=https://evil.example]x[/link]"
    world.cli.ok("user", "enable", "zoe@contoso.com", "--tenant", "contoso", "--email", "zoe@contoso.com",
                 "--name", name)  # fmt: skip
    shown = world.cli("user", "show", "zoe@contoso.com")
    assert shown.code == 0 and name in shown.out


def test_control_and_bidirectional_characters_are_stripped_from_a_name_on_the_way_in(world: World) -> None:
    user = world.cli.ok("user", "enable", "mallory@contoso.com", "--tenant", "contoso", "--email",
                        "mallory@contoso.com", "--name", "Mallory \u202eevil\x07\nTwo")  # fmt: skip
    assert user["display_name"] == "Mallory evil Two"
    assert world.cli.ok("user", "show", "mallory@contoso.com")["display_name"] == "Mallory evil Two"


def test_imported_names_are_cleaned_the_same_way(world: World, tmp_path: Path) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text('upn,email,name\nimp@contoso.com,imp@contoso.com,"\u2066Imp\u2069 \u202eorted\x1b"\n')
    world.cli.ok("user", "import", "--tenant", "contoso", str(csv))
    assert world.cli.ok("user", "show", "imp@contoso.com")["display_name"] == "Imp orted"


def test_the_tenant_sender_name_is_cleaned_too(world: World) -> None:
    tenant = world.cli.ok("tenant", "set", "contoso", "--email-from-name", "Contoso\u202e Audio\x07")
    assert tenant["email_from_name"] == "Contoso Audio"
