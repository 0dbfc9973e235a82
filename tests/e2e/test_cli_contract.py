"""The CLI contract of issue 2: JSON fields, list output, who may act, and what each command does.

Tests that only read use one shared copy of the seeded world (see conftest.py); tests that change
something get a private copy (`world`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, seed_tenant
from tests.e2e.conftest import (
    ADA,
    ADMIN,
    BOB,
    DYN,
    GRACE,
    HELPDESK,
    MAIN_FREE,
    MAIN_TOLL,
    PASSWORD,
    SECOND_TOLL,
    TP,
    TP_ID,
    World,
)
from tests.support.outbox import outbox_rows

REDMOND = "+14255550111"


def spoken(digits: str) -> str:
    """A 7-digit ID the way invitations print it: '123 456 7#'."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}#"


def mails(world: World, kind: str | None = None, *, tenant: str = "contoso") -> list[dict[str, Any]]:
    found = world.cli.ok("mail", "list", "--tenant", tenant)
    return [m for m in found if kind is None or m["kind"] == kind]


def body(world: World, mail: dict[str, Any]) -> str:
    shown = world.cli.ok("mail", "show", str(mail["id"]))
    return shown["body_text"] + "\n" + shown.get("body_html", "")


def stored_body(world: World, mail: dict[str, Any]) -> str:
    """The text and HTML as stored in the outbox, as delivery sends them (mail show masks a PIN)."""
    [row] = [r for r in outbox_rows(world.url) if r.id == mail["id"]]
    return row.body_text + "\n" + row.body_html


def lookup(world: World, digits: str, number: str = MAIN_TOLL) -> dict[str, Any]:
    return world.cli.ok("dialin", "lookup", "--number", number, "--digits", digits)  # type: ignore[no-any-return]


def audit_of(world: World, upn: str) -> list[dict[str, Any]]:
    return world.cli.ok("audit", "list", "--target", upn)  # type: ignore[no-any-return]


# --- JSON documents ------------------------------------------------------------------------------


def test_tenant_json_has_its_name_and_settings_under_their_design_names(shared_world: World) -> None:
    contoso = shared_world.cli.ok("tenant", "show", "contoso")
    assert contoso["name"] == "contoso"
    assert contoso["conference_id_mode"] == "static"
    assert contoso["auto_email"] is True
    assert contoso["pin_length"] == 5
    assert contoso["meeting_migration"] is True
    assert contoso["id_quarantine_days"] == 90
    assert contoso["email_from_address"] == "noreply@contoso.com"
    assert "email_from_name" in contoso
    # a new tenant starts with dynamic IDs
    assert shared_world.cli.ok("tenant", "show", "northwind")["conference_id_mode"] == "dynamic"


def test_user_json_has_the_contract_fields_and_no_secret(shared_world: World) -> None:
    ada = shared_world.cli.ok("user", "show", ADA)
    assert ada["upn"] == ADA and ada["tenant"] == "contoso" and ada["display_name"] == "Ada Lovelace"
    assert ada["email"] == ADA and ada["enabled"] is True and ada["provider"] == "builtin"
    assert ada["conference_id"] == shared_world.facts["ada_id"]
    assert len(ada["conference_id"]) == 7 and ada["conference_id"].isdigit()
    assert ada["toll_number"] == MAIN_TOLL and ada["toll_free_number"] == MAIN_FREE
    assert ada["pin_set"] is True
    assert not {"pin", "pin_hash"} & set(ada)
    tp = shared_world.cli.ok("user", "show", TP)
    assert tp["provider"] == "third-party" and tp["conference_id"] == TP_ID and tp["pin_set"] is False


def test_mail_json_has_id_kind_to_subject_status_and_show_adds_the_text(shared_world: World) -> None:
    listed = mails(shared_world, "welcome")
    welcome = next(m for m in listed if m["to"] == ADA)
    assert {"id", "kind", "to", "subject", "status"} <= set(welcome)
    assert welcome["status"] == "queued" and welcome["subject"]
    shown = shared_world.cli.ok("mail", "show", str(welcome["id"]))
    assert shown["id"] == welcome["id"] and shown["kind"] == "welcome" and shown["to"] == ADA
    assert spoken(shared_world.facts["ada_id"]) in shown["body_text"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "list", "--tenant", "contoso"), id="user-list"),
        pytest.param(
            ("user", "list", "--tenant", "contoso", "--search", "no-such-person"), id="empty-user-list"
        ),
        pytest.param(("mail", "list"), id="mail-list"),
        pytest.param(("audit", "list"), id="audit-list"),
        pytest.param(("number", "list", "contoso"), id="number-list"),
    ],
)
def test_list_commands_print_a_json_array(shared_world: World, args: tuple[str, ...]) -> None:
    result = shared_world.cli(*args, "--json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert isinstance(listed, list)
    assert all(isinstance(item, dict) for item in listed)
    if "no-such-person" in args:
        assert listed == []
    else:
        assert listed, "the seeded world has something to list"


def test_number_list_shows_every_number_of_the_tenant(shared_world: World) -> None:
    listed = shared_world.cli.ok("number", "list", "contoso")
    by_number = {n["number"]: n for n in listed}
    assert set(by_number) == {MAIN_TOLL, MAIN_FREE, SECOND_TOLL, "+18885550123"}
    assert by_number[MAIN_TOLL]["default"] is True and by_number[MAIN_TOLL]["toll_free"] is False
    assert by_number[MAIN_FREE]["toll_free"] is True and by_number[MAIN_FREE]["default"] is False


def test_user_list_searches_filters_by_provider_and_pages(shared_world: World) -> None:
    def upns(*options: str) -> list[str]:
        return [u["upn"] for u in shared_world.cli.ok("user", "list", "--tenant", "contoso", *options)]

    assert upns() == [ADA, GRACE, TP]  # sorted by sign-in name, only this tenant's users
    assert upns("--search", "GRACE") == [GRACE]
    assert upns("--search", "lovelace") == [ADA]  # display name
    assert upns("--provider", "third-party") == [TP]
    assert upns("--provider", "builtin") == [ADA, GRACE]
    assert upns("--limit", "2") == [ADA, GRACE]
    assert upns("--limit", "1", "--offset", "1") == [GRACE]
    assert upns("--offset", "3") == []


# --- who acts ------------------------------------------------------------------------------------


def test_admin_account_is_created_with_the_password_from_stdin(world: World) -> None:
    created = world.cli.ok(
        "admin",
        "create",
        "desk@contoso.com",
        "--tenant",
        "contoso",
        "--role",
        "helpdesk",
        stdin=PASSWORD + "\n",
    )
    assert created == {"email": "desk@contoso.com", "tenant": "contoso", "role": "helpdesk"}
    reset = world.cli.ok("--as", "desk@contoso.com", "user", "reset-conference-id", ADA)
    assert reset["previous_conference_id"] == world.facts["ada_id"]
    assert audit_of(world, ADA)[0]["actor"] == "desk@contoso.com"
    assert PASSWORD not in json.dumps(world.cli.ok("audit", "list"))

    short = world.cli(
        "admin", "create", "weak@contoso.com", "--tenant", "contoso", "--role", "admin", stdin="short\n"
    )
    assert short.code == 1 and "password" in short.err


def test_admin_named_by_dialconf_actor_runs_their_own_tenant_and_as_overrides_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    assert world.cli.ok("tenant", "set", "contoso", "--pin-length", "6")["pin_length"] == 6
    lin = "lin@contoso.com"
    enabled = world.cli.ok(
        "user", "enable", lin, "--tenant", "contoso", "--email", lin, "--name", "Lin Admin-Made"
    )
    assert enabled["upn"] == lin and len(enabled["conference_id"]) == 7
    assert world.cli.ok("user", "set-conference-id", lin, "2580741")["conference_id"] == "2580741"
    assert world.cli.ok("audit", "list", "--target", "contoso")[0]["actor"] == ADMIN
    assert {e["actor"] for e in audit_of(world, lin)} == {ADMIN}
    # an admin sees only their own tenant
    assert {m["tenant"] for m in world.cli.ok("mail", "list")} == {"contoso"}
    assert {e["tenant"] for e in world.cli.ok("audit", "list")} == {"contoso"}

    refused = world.cli("--as", HELPDESK, "tenant", "set", "contoso", "--pin-length", "7")
    assert refused.code == 1 and "helpdesk" in refused.err
    assert world.cli.ok("tenant", "show", "contoso")["pin_length"] == 6


def test_helpdesk_may_reset_ids_and_pins_and_send_conference_info(world: World) -> None:
    as_helpdesk = ("--as", HELPDESK, "user")
    reset = world.cli.ok(*as_helpdesk, "reset-conference-id", ADA)
    assert reset["conference_id"] != world.facts["ada_id"]
    pin = world.cli.ok(*as_helpdesk, "reset-pin", ADA)
    assert pin["pin"].isdigit()
    info = world.cli.ok(*as_helpdesk, "send-info", ADA)
    assert info["email_queued"] is True
    assert world.cli.ok(*as_helpdesk, "show", ADA)["conference_id"] == reset["conference_id"]
    actions = {e["action"]: e["actor"] for e in audit_of(world, ADA)[:3]}
    assert actions == {
        "user.reset_conference_id": HELPDESK,
        "user.reset_pin": HELPDESK,
        "user.send_info": HELPDESK,
    }


# --- conference IDs ------------------------------------------------------------------------------


def test_reset_conference_id_returns_new_and_previous_id_and_email_flag(world: World) -> None:
    old = world.facts["ada_id"]
    reset = world.cli.ok("user", "reset-conference-id", ADA)
    assert reset["upn"] == ADA and reset["previous_conference_id"] == old
    assert reset["conference_id"] != old and len(reset["conference_id"]) == 7
    assert reset["email_queued"] is True
    assert len([m for m in mails(world, "conference_id_changed") if m["to"] == ADA]) == 1
    assert lookup(world, old)["result"] == "reject"
    assert lookup(world, reset["conference_id"])["upn"] == ADA


def test_dialin_lookup_returns_result_upn_room_and_reason(shared_world: World) -> None:
    joined = lookup(shared_world, spoken(shared_world.facts["ada_id"]))
    assert joined["result"] == "join" and joined["upn"] == ADA
    assert joined["room"] and joined["reason"]
    assert "meeting" in joined
    rejected = lookup(shared_world, "7654321", number=MAIN_FREE)
    assert rejected["result"] == "reject" and rejected["reason"] and rejected["room"] is None
    # an ID lives on its bridge only: ada's ID means nothing on another tenant's number
    elsewhere = lookup(shared_world, shared_world.facts["ada_id"], number="+13125550100")
    assert elsewhere["result"] == "reject"


def test_dynamic_mode_user_has_no_conference_id_and_reset_says_nothing_to_renew(world: World) -> None:
    dyn = world.cli.ok("user", "show", DYN)
    assert dyn["conference_id"] is None and dyn["pin_set"] is True
    before = len(mails(world, tenant="northwind"))
    reset = world.cli.ok("user", "reset-conference-id", DYN)
    assert reset["upn"] == DYN
    assert reset["conference_id"] is None and reset["previous_conference_id"] is None
    assert reset["email_queued"] is False
    assert "nothing to renew" in reset["message"]
    assert len(mails(world, tenant="northwind")) == before
    assert audit_of(world, DYN)[0]["action"] == "user.reset_conference_id"  # accepted and recorded


def test_third_party_user_takes_a_hand_typed_id_and_acp_settings(world: World) -> None:
    ext = "ext@contoso.com"
    enabled = world.cli.ok(
        "user", "enable", ext, "--tenant", "contoso", "--email", ext, "--name", "Ext Ernal",
        "--provider", "third-party", "--conference-id", "4444 5555 66",
    )  # fmt: skip
    assert enabled["provider"] == "third-party" and enabled["conference_id"] == "4444555566"
    assert enabled["pin_set"] is False
    # typed by hand; 7 digits like the bridge's own IDs, so only the provider rule can reject it below
    changed = world.cli.ok("user", "set-conference-id", ext, "7031592")
    assert changed["conference_id"] == "7031592" and changed["previous_conference_id"] == "4444555566"
    acp = world.cli.ok(
        "user", "set-acp", ext, "--provider-name", "Acme Audio", "--toll-number", "+14155550123",
        "--toll-free-number", "+18885550111", "--participant-passcode", "246810",
        "--url", "https://acme.example/join", "--domain", "acme.example",
    )  # fmt: skip
    shown = world.cli.ok("user", "show", ext)
    assert acp["provider"] == shown["provider"] == "third-party"
    assert shown["conference_id"] == "7031592"
    assert shown["third_party"]["provider_name"] == "Acme Audio"
    assert shown["third_party"]["toll_number"] == "+14155550123"
    assert shown["third_party"]["toll_free_numbers"] == ["+18885550111"]
    assert shown["third_party"]["participant_passcode"] == "246810"
    assert shown["third_party"]["url"] == "https://acme.example/join"
    # dialconf never answers third-party calls
    assert lookup(world, "7031592")["result"] == "reject"


def test_moving_a_builtin_user_to_a_third_party_provider_stops_the_old_id(world: World) -> None:
    old = world.facts["ada_id"]
    world.cli.ok(
        "user", "set-acp", ADA, "--provider-name", "Acme Audio", "--toll-number", "+14155550123",
        "--participant-passcode", "246810",
    )  # fmt: skip
    shown = world.cli.ok("user", "show", ADA)
    assert shown["provider"] == "third-party" and shown["pin_set"] is False
    assert lookup(world, old)["result"] == "reject"
    assert [m["to"] for m in mails(world, "dialin_removed")] == [ADA]


# --- emails and PINs -----------------------------------------------------------------------------


def test_send_info_email_has_the_id_and_numbers_but_never_the_pin(world: World) -> None:
    world.cli.ok("tenant", "set", "contoso", "--no-auto-email", "--pin-length", "12")
    pin = world.cli.ok("user", "reset-pin", ADA)["pin"]
    sent = world.cli.ok("user", "send-info", ADA, "--to", "assistant@contoso.com")
    assert sent["email_queued"] is True  # an explicit action mails even with auto_email off
    [info] = mails(world, "conference_info")
    assert info["to"] == "assistant@contoso.com"
    text = body(world, info)
    assert spoken(world.facts["ada_id"]) in text
    assert "+1 425-555-0100" in text and "+1 800-555-0199" in text
    assert pin not in text and "Your leader PIN:" not in text


def test_pin_from_reset_pin_is_shown_once_and_only_mailed_in_the_pin_reset_email(world: World) -> None:
    world.cli.ok("tenant", "set", "contoso", "--pin-length", "12")  # 12 digits: no accidental match
    world.cli.ok("number", "add", "contoso", REDMOND, "--city", "Redmond")
    reset = world.cli.ok("user", "reset-pin", ADA)
    pin = reset["pin"]
    assert reset["upn"] == ADA and reset["email_queued"] is True
    assert len(pin) == 12 and pin.isdigit()
    # every other kind of email the user can get after a PIN reset
    world.cli.ok("user", "reset-conference-id", ADA)
    world.cli.ok("user", "send-info", ADA)
    world.cli.ok("user", "set-default-number", ADA, "--toll", REDMOND)
    world.cli.ok("user", "disable", ADA)

    sent = [m for m in mails(world) if m["to"] == ADA]
    kinds = {m["kind"] for m in sent}
    assert {"pin_reset", "conference_id_changed", "conference_info", "default_number_changed"} <= kinds
    assert "dialin_removed" in kinds
    for mail in sent:
        text = stored_body(world, mail)
        assert pin not in body(world, mail)
        if mail["kind"] == "pin_reset":
            assert pin in text
        elif mail["kind"] != "welcome":  # the welcome email carried the first PIN, not this one
            assert pin not in text, f"the PIN leaked into the {mail['kind']} email"
    assert pin not in json.dumps(world.cli.ok("audit", "list"))
    assert pin not in world.cli("audit", "list").out
    assert pin not in json.dumps(world.cli.ok("user", "show", ADA))
    assert pin not in world.cli("user", "show", ADA).out


def test_set_default_number_changes_the_invitation_numbers_and_emails_the_user(world: World) -> None:
    world.cli.ok("number", "add", "contoso", REDMOND, "--city", "Redmond")
    changed = world.cli.ok("user", "set-default-number", ADA, "--toll", REDMOND)
    assert changed["toll_number"] == REDMOND and changed["toll_free_number"] == MAIN_FREE
    assert changed["email_queued"] is True
    assert world.cli.ok("user", "show", ADA)["toll_number"] == REDMOND
    [mail] = mails(world, "default_number_changed")
    assert mail["to"] == ADA and "+1 425-555-0111" in body(world, mail)
    event = audit_of(world, ADA)[0]
    assert event["action"] == "user.default_numbers"
    assert event["before"]["toll_number"] == MAIN_TOLL and event["after"]["toll_number"] == REDMOND


def test_disabled_user_loses_the_id_at_once_and_is_emailed(world: World) -> None:
    old = world.facts["ada_id"]
    disabled = world.cli.ok("user", "disable", ADA)
    assert disabled["enabled"] is False and disabled["conference_id"] is None
    assert disabled["pin_set"] is False and disabled["email_queued"] is True
    assert lookup(world, old)["result"] == "reject"
    [mail] = mails(world, "dialin_removed")
    assert mail["to"] == ADA
    # the released ID is quarantined, not handed to the next user who asks for it
    taken = world.cli("user", "set-conference-id", GRACE, old)
    assert taken.code == 1 and "quarantined" in taken.err


# --- import, export, bulk ------------------------------------------------------------------------

HEADER = "upn,email,name,country,provider,toll_number,toll_free_number,conference_id"
GOOD_ROWS = [
    f"imp1@contoso.com,imp1@contoso.com,Imported One,US,builtin,{MAIN_TOLL},{MAIN_FREE},2468024",
    "imp2@contoso.com,imp2@contoso.com,Imported Two,,builtin,,,",
    "imp3@contoso.com,imp3@contoso.com,Imported Three,,third-party,,,55554444",
]


def write_csv(tmp_path: Path, *rows: str, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_import_with_bad_rows_reports_every_bad_row_and_imports_nothing(world: World, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        GOOD_ROWS[0],  # line 2
        "not-a-upn,x@contoso.com,Bad Upn,,,,,",  # line 3
        GOOD_ROWS[1],  # line 4
        "imp5@contoso.com,imp5@contoso.com,Bad Number,,,+12065550123,,",  # line 5: other bridge
        f"{ADA},{ADA},Already There,,,,,",  # line 6
        "imp7@contoso.com,imp7@contoso.com,Short Id,,,,,123",  # line 7
        GOOD_ROWS[2],  # line 8
        f"imp9@contoso.com,imp9@contoso.com,Taken Id,,,,,{world.facts['grace_id']}",  # line 9
        "imp1@contoso.com,imp1@contoso.com,Twice,,,,,",  # line 10
    )
    before = world.state()
    result = world.cli("user", "import", str(path), "--tenant", "contoso", "--json")
    assert result.code == 1 and result.out == ""
    assert "Traceback" not in result.err
    first, *details = result.err.strip().splitlines()
    assert first.startswith("dialconf: ") and "6 bad row" in first and "nothing was imported" in first
    reported = {int(line.split(":")[0].removeprefix("line ")) for line in details}
    assert reported == {3, 5, 6, 7, 9, 10}
    assert any("line 5:" in d and "+12065550123" in d for d in details)
    assert any("line 9:" in d and "already in use" in d for d in details)
    assert world.state() == before


def test_import_dry_run_checks_the_file_and_imports_nothing(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *GOOD_ROWS)
    before = world.state()
    report = world.cli.ok("user", "import", str(path), "--tenant", "contoso", "--dry-run")
    assert report["dry_run"] is True and report["rows"] == 3 and report["imported"] == 0
    assert world.state() == before


def test_import_enables_every_row_and_export_round_trips_them(world: World, tmp_path: Path) -> None:
    report = world.cli.ok("user", "import", str(write_csv(tmp_path, *GOOD_ROWS)), "--tenant", "contoso")
    assert report["imported"] == 3 and report["emails_queued"] == 3
    assert {m["to"] for m in mails(world, "welcome")} >= {
        "imp1@contoso.com",
        "imp2@contoso.com",
        "imp3@contoso.com",
    }
    imp2 = world.cli.ok("user", "show", "imp2@contoso.com")
    assert len(imp2["conference_id"]) == 7 and imp2["pin_set"] is True
    assert lookup(world, imp2["conference_id"])["upn"] == "imp2@contoso.com"

    exported_path = tmp_path / "export.csv"
    assert world.cli("user", "export", "--tenant", "contoso", str(exported_path)).code == 0
    stdout_export = world.cli("user", "export", "--tenant", "contoso")
    assert stdout_export.code == 0 and stdout_export.out == exported_path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(stdout_export.out)))
    assert list(rows[0]) == HEADER.split(",")
    by_upn = {r["upn"]: r for r in rows}
    assert set(by_upn) == {ADA, GRACE, TP, "imp1@contoso.com", "imp2@contoso.com", "imp3@contoso.com"}
    for line in GOOD_ROWS:
        given = dict(zip(HEADER.split(","), line.split(","), strict=True))
        exported = by_upn[given["upn"]]
        # what the file said comes back (a number behind the quote that keeps spreadsheets from
        # reading it as a formula); what it left out is filled with what the user got
        assert {k: exported[k] for k, v in given.items() if v} == {
            k: "'" + v if v.startswith("+") else v for k, v in given.items() if v
        }
    assert by_upn["imp2@contoso.com"]["conference_id"] == imp2["conference_id"]
    assert by_upn["imp2@contoso.com"]["toll_number"] == "'" + MAIN_TOLL
    assert by_upn[ADA]["conference_id"] == world.facts["ada_id"]

    # the export is valid import input: re-importing it is refused only because the users exist
    again = world.cli("user", "import", str(exported_path), "--tenant", "contoso", "--dry-run")
    assert again.code == 1 and "6 bad row" in again.err and "already exists" in again.err


def test_bulk_reset_conference_id_resets_every_matching_builtin_user(world: World) -> None:
    ada_id, grace_id = world.facts["ada_id"], world.facts["grace_id"]
    only_ada = world.cli.ok(
        "user",
        "bulk-reset-conference-id",
        "--tenant",
        "contoso",
        "--search",
        "lovelace",
        "--no-email",
        "--yes",
    )
    assert only_ada["reset"] == 1 and only_ada["emails_queued"] == 0
    assert [u["upn"] for u in only_ada["users"]] == [ADA]
    assert world.cli.ok("user", "show", GRACE)["conference_id"] == grace_id
    assert [m for m in mails(world, "conference_id_changed") if m["to"] == ADA] == []

    everyone = world.cli.ok("user", "bulk-reset-conference-id", "--tenant", "contoso", "--yes")
    assert sorted(u["upn"] for u in everyone["users"]) == [ADA, GRACE]  # not the third-party user
    assert everyone["reset"] == 2 and everyone["emails_queued"] == 2
    new_ids = {u["upn"]: u["conference_id"] for u in everyone["users"]}
    for upn, old in ((ADA, only_ada["users"][0]["conference_id"]), (GRACE, grace_id)):
        assert new_ids[upn] != old and world.cli.ok("user", "show", upn)["conference_id"] == new_ids[upn]
        assert lookup(world, old)["result"] == "reject"
        assert lookup(world, new_ids[upn])["upn"] == upn
    assert lookup(world, ada_id)["result"] == "reject"
    # grace had one already, from the reset while the world was seeded
    assert sorted(m["to"] for m in mails(world, "conference_id_changed")) == [ADA, GRACE, GRACE]
    # another tenant's users are untouched
    assert world.cli.ok("user", "show", BOB)["conference_id"] == world.facts["bob_id"]


def test_user_enable_takes_email_address_and_email_switches_together(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok("tenant", "set", "contoso", "--no-auto-email")
    quiet = sqlite_cli.ok(
        "user", "enable", "q@contoso.com", "--tenant", "contoso", "--email", "q@contoso.com", "--name", "Q"
    )
    assert quiet["email_queued"] is False and quiet["email"] == "q@contoso.com"
    loud = sqlite_cli.ok(
        "user",
        "enable",
        "l@contoso.com",
        "--tenant",
        "contoso",
        "--email",
        "l@contoso.com",
        "--name",
        "L",
        "--email",
    )
    assert loud["email_queued"] is True and loud["email"] == "l@contoso.com"
    sqlite_cli.ok("tenant", "set", "contoso", "--auto-email")
    off = sqlite_cli.ok(
        "user",
        "enable",
        "o@contoso.com",
        "--email",
        "o@contoso.com",
        "--no-email",
        "--tenant",
        "contoso",
        "--name",
        "O",
    )
    assert off["email_queued"] is False
    assert sorted(m["to"] for m in sqlite_cli.ok("mail", "list")) == ["l@contoso.com"]


def test_bulk_reset_pin_gives_every_matching_builtin_user_a_new_pin_shown_once(world: World) -> None:
    result = world.cli.ok("user", "bulk-reset-pin", "--tenant", "contoso", "--yes")
    pins = {u["upn"]: u["pin"] for u in result["users"]}
    assert sorted(pins) == [ADA, GRACE]  # not the third-party user
    assert result["reset"] == 2 and result["emails_queued"] == 2
    assert all(pin.isdigit() and len(pin) == 5 for pin in pins.values())
    pin_mails = mails(world, "pin_reset")
    assert sorted(m["to"] for m in pin_mails) == [ADA, GRACE]
    for mail in pin_mails:
        assert pins[mail["to"]] in stored_body(world, mail)
        assert pins[mail["to"]] not in body(world, mail)
    # the new PIN leads the meeting; the PIN never shows in the audit log
    ada_id = world.cli.ok("user", "show", ADA)["conference_id"]
    joined = world.cli.ok(
        "dialin", "lookup", "--number", "+14255550100", "--digits", ada_id, "--pin", pins[ADA]
    )
    assert joined["result"] == "join" and joined["reason"] == "leader"
    assert pins[ADA] not in json.dumps(world.cli.ok("audit", "list", "--target", ADA))
