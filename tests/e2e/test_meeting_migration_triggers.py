"""Migration jobs queued by default number changes, disabling and provider changes (DESIGN §4).

Each change queues a job for the organizer in its own transaction (when the tenant's
meeting_migration is on and the organizer has upcoming meetings); running it re-sends every upcoming
invitation with the same UID, SEQUENCE + 1 and the new dial-in block; a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update

from dialconf.store.db import make_engine
from dialconf.store.models import Meeting, OutboxMail
from tests.e2e.conftest import ADA, DYN, MAIN_TOLL, NORTHWIND_TOLL, World

UPCOMING = ("--start", "2030-03-04T09:00", "--end", "2030-03-04T10:00")
PAST = ("--start", "2020-03-02T09:00", "--end", "2020-03-02T10:00")
NINA = "nina@contoso.com"  # on bridge 'third', which has no number yet: she has no toll number of her own
REDMOND, BELLEVUE, KIRKLAND = "+14255550111", "+14255550122", "+14255550133"
LOOKUP = ("dialin", "lookup", "--number")
ACP = ("--provider-name", "Acme Audio", "--toll-number", "+12125550187", "--participant-passcode", "246810")


def _invitations(world: World, to: str) -> list[icalendar.Event]:
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            texts = conn.scalars(
                select(OutboxMail.ics)
                .where(OutboxMail.to_addr == to, OutboxMail.ics.is_not(None))
                .order_by(OutboxMail.id)
            ).all()
    finally:
        engine.dispose()
    return [icalendar.Calendar.from_ical(text).walk("VEVENT")[0] for text in texts]


def _block(event: icalendar.Event) -> str:
    return str(event["DESCRIPTION"])


def _schedule(world: World, organizer: str, attendee: str, when: tuple[str, ...] = UPCOMING) -> dict[str, Any]:
    return world.cli.ok(  # type: ignore[no-any-return]
        "meeting", "schedule", "--organizer", organizer, "--subject", "Sync", *when, "--attendee", attendee
    )


def _pending(world: World, upn: str) -> list[dict[str, Any]]:
    return world.cli.ok("meeting", "migration-status", "--upn", upn, "--state", "pending")  # type: ignore[no-any-return]


def _run_and_check_resent(world: World, upn: str, attendee: str) -> icalendar.Event:
    """Run the due jobs: `upn`'s re-sends one invitation to `attendee` (same UID, SEQUENCE + 1); a second run is a no-op."""
    before = _invitations(world, attendee)
    (ran,) = [r for r in world.cli.ok("meeting", "run-migrations") if r["upn"] == upn]
    assert (ran["state"], ran["meetings_updated"]) == ("succeeded", 1)
    after = _invitations(world, attendee)
    assert len(after) == len(before) + 1
    previous, resent = before[-1], after[-1]
    assert str(resent["UID"]) == str(previous["UID"])
    assert int(resent["SEQUENCE"]) == int(previous["SEQUENCE"]) + 1
    assert world.cli.ok("meeting", "run-migrations") == []
    again = world.cli.ok("meeting", "migrate", upn)
    assert (again["state"], again["meetings_updated"]) == ("succeeded", 0)
    assert len(_invitations(world, attendee)) == len(after)
    return resent


def _add_third_bridge_with_nina(world: World) -> None:
    world.cli.ok("bridge", "create", "contoso", "third")
    world.cli.ok(
        "user", "enable", NINA, "--tenant", "contoso", "--bridge", "third", "--email", NINA, "--name", "Nina Null"
    )


def test_changing_a_users_default_toll_number_resends_her_upcoming_invitations(world: World) -> None:
    world.cli.ok("number", "add", "contoso", REDMOND, "--city", "Redmond")
    _schedule(world, ADA, "bob@example.com")
    _schedule(world, ADA, "eve@example.com", PAST)
    assert "+1 425-555-0100  (Seattle)  (toll)" in _block(_invitations(world, "bob@example.com")[0])

    world.cli.ok("user", "set-default-number", ADA, "--toll", REDMOND, "--no-email")
    (job,) = _pending(world, ADA)
    assert job["reason"] == "default numbers changed"

    resent = _run_and_check_resent(world, ADA, "bob@example.com")
    assert "+1 425-555-0111  (Redmond)  (toll)" in _block(resent)
    assert "425-555-0100" not in _block(resent)
    assert len(_invitations(world, "eve@example.com")) == 1  # the past meeting is left alone


def test_setting_the_same_default_numbers_again_queues_nothing(world: World) -> None:
    _schedule(world, ADA, "bob@example.com")
    world.cli.ok("user", "set-default-number", ADA, "--toll", MAIN_TOLL, "--no-email")
    assert _pending(world, ADA) == []


def test_a_new_bridge_default_reaches_the_organizers_who_have_no_toll_number_of_their_own(world: World) -> None:
    _add_third_bridge_with_nina(world)
    _schedule(world, NINA, "bob@example.com")
    _schedule(world, ADA, "eve@example.com")  # ada has her own toll number: not concerned
    assert "(toll)" not in _block(_invitations(world, "bob@example.com")[0])

    world.cli.ok("number", "add", "contoso", BELLEVUE, "--bridge", "third", "--city", "Bellevue")
    (job,) = _pending(world, NINA)
    assert job["reason"] == "bridge default number changed"
    assert _pending(world, ADA) == []
    assert "+1 425-555-0122  (Bellevue)  (toll)" in _block(_run_and_check_resent(world, NINA, "bob@example.com"))

    world.cli.ok("number", "add", "contoso", KIRKLAND, "--bridge", "third", "--city", "Kirkland")
    assert _pending(world, NINA) == []  # not the default: nothing in her invitations changes
    world.cli.ok("number", "set-default", "contoso", KIRKLAND)
    (job,) = _pending(world, NINA)
    assert job["reason"] == "bridge default number changed"
    assert "+1 425-555-0133  (Kirkland)  (toll)" in _block(_run_and_check_resent(world, NINA, "bob@example.com"))


def test_removing_the_bridge_default_number_counts_as_a_default_number_change(world: World) -> None:
    _add_third_bridge_with_nina(world)
    world.cli.ok("number", "add", "contoso", BELLEVUE, "--bridge", "third", "--city", "Bellevue")
    _schedule(world, NINA, "bob@example.com")
    assert "Bellevue" in _block(_invitations(world, "bob@example.com")[0])

    world.cli.ok("number", "remove", "contoso", BELLEVUE)
    (job,) = _pending(world, NINA)
    assert job["reason"] == "bridge default number removed"
    resent = _run_and_check_resent(world, NINA, "bob@example.com")
    assert "Bellevue" not in _block(resent) and "Conference ID: " in _block(resent)


def test_disabling_an_organizer_rewrites_her_invitations_without_dial_in_and_enabling_her_restores_it(
    world: World,
) -> None:
    meeting = _schedule(world, ADA, "bob@example.com")
    old_id = meeting["conference_id"]
    world.cli.ok("user", "disable", ADA, "--no-email")
    (job,) = _pending(world, ADA)
    assert job["reason"] == "user disabled"
    assert world.cli.ok(*LOOKUP, MAIN_TOLL, "--digits", old_id)["result"] == "reject"

    resent = _run_and_check_resent(world, ADA, "bob@example.com")
    assert "no longer has dial-in" in _block(resent)
    assert "Conference ID" not in _block(resent) and "425-555-0100" not in _block(resent)
    assert world.cli.ok("meeting", "show", str(meeting["id"]))["status"] == "scheduled"  # the meeting still happens

    new_id = world.cli.ok(
        "user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada Lovelace", "--no-email"
    )["conference_id"]
    (job,) = _pending(world, ADA)
    assert job["reason"] == "user enabled"
    spoken = f"{new_id[:3]} {new_id[3:6]} {new_id[6:]}#"
    assert f"Conference ID: {spoken}" in _block(_run_and_check_resent(world, ADA, "bob@example.com"))


def test_disabling_a_dynamic_organizer_refuses_her_meeting_ids_at_once(world: World) -> None:
    meeting = _schedule(world, DYN, "bob@example.com")
    world.cli.ok("user", "disable", DYN, "--no-email")
    assert world.cli.ok(*LOOKUP, NORTHWIND_TOLL, "--digits", meeting["conference_id"])["result"] == "reject"
    assert "no longer has dial-in" in _block(_run_and_check_resent(world, DYN, "bob@example.com"))

    world.cli.ok("user", "enable", DYN, "--tenant", "northwind", "--email", DYN, "--name", "Dee Namic", "--no-email")
    renewed = world.cli.ok("meeting", "show", str(meeting["id"]))["conference_id"]
    assert renewed != meeting["conference_id"]
    assert world.cli.ok(*LOOKUP, NORTHWIND_TOLL, "--digits", renewed)["result"] == "join"
    spoken = f"{renewed[:3]} {renewed[3:6]} {renewed[6:]}#"
    assert f"Conference ID: {spoken}" in _block(_run_and_check_resent(world, DYN, "bob@example.com"))


def test_a_move_to_a_third_party_provider_writes_its_details_into_the_invitations(world: World) -> None:
    meeting = _schedule(world, ADA, "bob@example.com")
    world.cli.ok("user", "set-acp", ADA, *ACP, "--url", "https://acme.example/join", "--no-email")
    (job,) = _pending(world, ADA)
    assert job["reason"] == "provider changed"
    assert world.cli.ok(*LOOKUP, MAIN_TOLL, "--digits", meeting["conference_id"])["result"] == "reject"

    block = _block(_run_and_check_resent(world, ADA, "bob@example.com"))
    assert "Join by phone (Acme Audio)" in block
    assert "+1 212-555-0187  (toll)" in block and "Participant passcode: 246810" in block
    assert "https://acme.example/join" in block and "425-555-0100" not in block

    # the provider's conference ID, typed in by hand, goes into the block too
    world.cli.ok("user", "set-conference-id", ADA, "13572468", "--no-email")
    (job,) = _pending(world, ADA)
    assert "Conference ID: 135 724 68#" in _block(_run_and_check_resent(world, ADA, "bob@example.com"))


def test_back_from_a_third_party_provider_the_invitations_carry_dialconfs_id_again(world: World) -> None:
    _schedule(world, ADA, "bob@example.com")
    world.cli.ok("user", "set-acp", ADA, *ACP, "--no-email")
    world.cli.ok("meeting", "run-migrations")
    world.cli.ok("user", "disable", ADA, "--no-email")
    enabled = world.cli.ok(
        "user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada Lovelace", "--no-email"
    )
    assert enabled["provider"] == "builtin"
    new_id = enabled["conference_id"]
    block = _block(_run_and_check_resent(world, ADA, "bob@example.com"))
    assert "Acme Audio" not in block and "Participant passcode" not in block
    assert f"Conference ID: {new_id[:3]} {new_id[3:6]} {new_id[6:]}#" in block
    assert "+1 425-555-0100  (Seattle)  (toll)" in block


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(("user", "set-default-number", ADA, "--toll", REDMOND, "--no-email"), id="default-number"),
        pytest.param(("number", "set-default", "contoso", REDMOND), id="bridge-default"),
        pytest.param(("user", "disable", ADA, "--no-email"), id="disable"),
        pytest.param(
            ("user", "set-acp", ADA, *ACP, "--no-email"),
            id="provider",
        ),
    ],
)
def test_no_job_is_queued_when_the_tenant_turned_meeting_migration_off(world: World, change: tuple[str, ...]) -> None:
    world.cli.ok("number", "add", "contoso", REDMOND, "--city", "Redmond")
    _add_third_bridge_with_nina(world)
    world.cli.ok("number", "add", "contoso", BELLEVUE, "--bridge", "third")
    _schedule(world, ADA, "bob@example.com")
    _schedule(world, NINA, "eve@example.com")
    world.cli.ok("tenant", "set", "contoso", "--no-meeting-migration")
    if change[0] == "number":
        change = ("number", "set-default", "contoso", "+14255550144")
        world.cli.ok("number", "add", "contoso", "+14255550144", "--bridge", "third")
    world.cli.ok(*change)
    assert world.cli.ok("meeting", "migration-status") == []
    assert len(_invitations(world, "bob@example.com")) == 1
    assert len(_invitations(world, "eve@example.com")) == 1


def test_an_organizer_without_upcoming_meetings_gets_no_job(world: World) -> None:
    world.cli.ok("number", "add", "contoso", REDMOND, "--city", "Redmond")
    _schedule(world, ADA, "eve@example.com", PAST)
    world.cli.ok("user", "set-default-number", ADA, "--toll", REDMOND, "--no-email")
    world.cli.ok("user", "disable", ADA, "--no-email")
    assert world.cli.ok("meeting", "migration-status") == []


def test_a_switch_to_dynamic_gives_meetings_scheduled_on_the_static_id_their_own_and_resends_them(
    world: World,
) -> None:
    meeting = _schedule(world, ADA, "bob@example.com")
    static = world.cli.ok("user", "show", ADA)["conference_id"]
    assert meeting["conference_id"] == static

    world.cli.ok("tenant", "set-id-mode", "contoso", "dynamic")
    own = world.cli.ok("meeting", "show", str(meeting["id"]))["conference_id"]
    assert own not in (None, static)
    (job,) = _pending(world, ADA)
    assert job["reason"] == "conference ID mode changed"
    # callers with the new ID reach the meeting; the static ID is quarantined with the user's
    found = world.cli.ok(*LOOKUP, MAIN_TOLL, "--digits", own)
    assert (found["result"], found["meeting"]) == ("join", str(meeting["id"]))
    assert world.cli.ok(*LOOKUP, MAIN_TOLL, "--digits", static)["result"] == "reject"

    resent = _run_and_check_resent(world, ADA, "bob@example.com")
    assert "Conference ID: " + " ".join([own[:3], own[3:6], own[6:]]) + "#" in _block(resent)


def test_a_job_gives_an_own_id_to_a_meeting_left_without_one_by_an_earlier_switch(world: World) -> None:
    """Before switches gave them one, such meetings made every job of their organizer fail."""
    meeting = _schedule(world, ADA, "bob@example.com")
    world.cli.ok("tenant", "set", "contoso", "--no-meeting-migration")
    world.cli.ok("tenant", "set-id-mode", "contoso", "dynamic")
    engine = make_engine(world.url)
    try:
        with engine.begin() as conn:  # the state such a switch left: no own ID, the static digits
            conn.execute(update(Meeting).where(Meeting.id == meeting["id"]).values(conference_id_row_id=None))
    finally:
        engine.dispose()
    world.cli.ok("tenant", "set", "contoso", "--meeting-migration")

    ran = world.cli.ok("meeting", "migrate", ADA)
    assert (ran["state"], ran["meetings_updated"]) == ("succeeded", 1)
    own = world.cli.ok("meeting", "show", str(meeting["id"]))["conference_id"]
    assert own != meeting["conference_id"]
    assert world.cli.ok(*LOOKUP, MAIN_TOLL, "--digits", own)["result"] == "join"
