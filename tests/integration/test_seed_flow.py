"""The flow of the original document, end to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.conftest import Cli, seed_tenant


def _enable_ada(cli: Cli) -> dict:
    return cli.ok(
        "user",
        "enable",
        "ada@contoso.com",
        "--tenant",
        "contoso",
        "--email",
        "ada@contoso.com",
        "--name",
        "Ada Lovelace",
        "--country",
        "US",
    )


def test_enabled_user_gets_a_seven_digit_conference_id(cli: Cli) -> None:
    seed_tenant(cli)
    user = _enable_ada(cli)
    assert user["conference_id"] is not None and len(user["conference_id"]) == 7
    assert user["conference_id"].isdigit() and user["conference_id"][0] != "0"
    assert user["toll_number"] == "+14255550100"
    assert user["toll_free_number"] == "+18005550199"
    assert user["pin_set"] is True


def test_old_conference_id_is_rejected_right_after_reset(cli: Cli) -> None:
    seed_tenant(cli)
    old = _enable_ada(cli)["conference_id"]
    before = cli.ok("dialin", "lookup", "--number", "+14255550100", "--digits", old + "#")
    assert before["result"] == "join" and before["upn"] == "ada@contoso.com"

    reset = cli.ok("user", "reset-conference-id", "ada@contoso.com")
    assert reset["previous_conference_id"] == old
    assert reset["conference_id"] != old and len(reset["conference_id"]) == 7
    assert reset["email_queued"] is True

    stale = cli.ok("dialin", "lookup", "--number", "+14255550100", "--digits", old)
    assert stale["result"] == "reject"
    fresh = cli.ok("dialin", "lookup", "--number", "+14255550100", "--digits", reset["conference_id"])
    assert fresh["result"] == "join" and fresh["upn"] == "ada@contoso.com" and fresh["room"]
    assert cli.ok("user", "show", "ada@contoso.com")["conference_id"] == reset["conference_id"]


def test_reset_email_has_new_id_numbers_and_instructions_but_no_pin(cli: Cli) -> None:
    seed_tenant(cli)
    _enable_ada(cli)
    pin = cli.ok("user", "reset-pin", "ada@contoso.com", "--no-email")["pin"]
    reset = cli.ok("user", "reset-conference-id", "ada@contoso.com")
    mails = cli.ok("mail", "list", "--tenant", "contoso")
    changed = [m for m in mails if m["kind"] == "conference_id_changed"]
    assert len(changed) == 1 and changed[0]["to"] == "ada@contoso.com"
    body = cli.ok("mail", "show", str(changed[0]["id"]))["body_text"]
    spoken = f"{reset['conference_id'][:3]} {reset['conference_id'][3:6]} {reset['conference_id'][6:]}#"
    assert spoken in body
    assert "+1 425-555-0100" in body and "+1 800-555-0199" in body
    assert "How to update your existing meetings" in body
    assert pin not in body and "PIN:" not in body


def test_no_email_when_auto_email_is_off_and_to_overrides_recipient(cli: Cli) -> None:
    seed_tenant(cli)
    _enable_ada(cli)
    cli.ok("tenant", "set", "contoso", "--no-auto-email")
    quiet = cli.ok("user", "reset-conference-id", "ada@contoso.com")
    assert quiet["email_queued"] is False
    assert [m for m in cli.ok("mail", "list") if m["kind"] == "conference_id_changed"] == []

    loud = cli.ok("user", "reset-conference-id", "ada@contoso.com", "--email", "--to", "helpdesk@contoso.com")
    assert loud["email_queued"] is True
    changed = [m for m in cli.ok("mail", "list") if m["kind"] == "conference_id_changed"]
    assert [m["to"] for m in changed] == ["helpdesk@contoso.com"]
