"""`dialconf meeting ...`: scheduling in both conference ID modes, cancelling, refusals and tenant isolation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialconf.store.db import make_engine
from dialconf.store.models import ConferenceIdRow, Meeting, User
from tests.e2e.conftest import (
    ADA,
    ADMIN,
    BOB,
    DYN,
    FABRIKAM_ADMIN,
    HELPDESK,
    MAIN_TOLL,
    NORTHWIND_TOLL,
    TP,
    World,
)

FIELDS = {"id", "organizer", "subject", "start", "end", "timezone", "rrule", "attendees", "conference_id"}
WHEN = ("--start", "2026-12-01T09:00", "--end", "2026-12-01T10:00")


def schedule(world: World, organizer: str, *extra: str, subject: str = "Weekly sync") -> dict:
    return world.cli.ok(  # type: ignore[no-any-return]
        "meeting", "schedule", "--organizer", organizer, "--subject", subject, *WHEN, *extra
    )


def _id_rows(world: World, digits: str) -> list[tuple[str, str, str | None]]:
    """(state, kind, owner UPN) of every conference_ids row with these digits."""
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            return [
                (state, kind, upn)
                for state, kind, upn in conn.execute(
                    select(ConferenceIdRow.state, ConferenceIdRow.kind, User.upn)
                    .outerjoin(User, User.id == ConferenceIdRow.owner_user_id)
                    .where(ConferenceIdRow.digits == digits)
                )
            ]
    finally:
        engine.dispose()


def test_in_static_mode_a_meeting_carries_the_organizers_own_id(world: World) -> None:
    meeting = schedule(
        world, ADA, "--timezone", "Europe/Paris", "--rrule", "FREQ=WEEKLY;COUNT=4", "--attendee", "Bob@Example.com"
    )
    assert set(meeting) >= FIELDS
    assert meeting["conference_id"] == world.facts["ada_id"]
    assert (meeting["organizer"], meeting["subject"], meeting["timezone"]) == (ADA, "Weekly sync", "Europe/Paris")
    assert (meeting["start"], meeting["end"]) == ("2026-12-01T09:00:00+01:00", "2026-12-01T10:00:00+01:00")
    assert (meeting["rrule"], meeting["attendees"]) == ("FREQ=WEEKLY;COUNT=4", ["bob@example.com"])
    assert world.cli.ok("meeting", "show", str(meeting["id"])) == meeting
    assert [m["id"] for m in world.cli.ok("meeting", "list", "--organizer", ADA)] == [meeting["id"]]
    # no ID of its own: the organizer's static row is the only one with these digits
    assert _id_rows(world, meeting["conference_id"]) == [("live", "static", ADA)]


def test_in_dynamic_mode_each_meeting_gets_its_own_id_that_callers_can_dial(world: World) -> None:
    first = schedule(world, DYN, subject="Planning")
    second = schedule(world, DYN, subject="Review")
    assert first["conference_id"] != second["conference_id"]
    for meeting in (first, second):
        assert len(meeting["conference_id"]) == 7
        assert _id_rows(world, meeting["conference_id"]) == [("live", "meeting", DYN)]
        answer = world.cli.ok("dialin", "lookup", "--number", NORTHWIND_TOLL, "--digits", meeting["conference_id"])
        assert (answer["result"], answer["upn"]) == ("join", DYN)
        assert answer["meeting"] == str(meeting["id"])  # the caller is told which meeting


def test_cancelling_a_dynamic_meeting_quarantines_its_id_at_once(world: World) -> None:
    meeting = schedule(world, DYN)
    cancelled = world.cli.ok("meeting", "cancel", str(meeting["id"]))
    assert cancelled["status"] == "cancelled"
    assert _id_rows(world, meeting["conference_id"]) == [("quarantined", "meeting", DYN)]
    answer = world.cli.ok("dialin", "lookup", "--number", NORTHWIND_TOLL, "--digits", meeting["conference_id"])
    assert answer["result"] == "reject"
    assert world.cli.ok("meeting", "list") == []
    again = world.cli("meeting", "cancel", str(meeting["id"]))
    assert (again.code, again.err) == (1, f"dialconf: meeting {meeting['id']} is already cancelled\n")


def test_cancelling_a_static_meeting_leaves_the_organizers_id_working(world: World) -> None:
    meeting = schedule(world, ADA)
    world.cli.ok("meeting", "cancel", str(meeting["id"]))
    assert _id_rows(world, world.facts["ada_id"]) == [("live", "static", ADA)]
    answer = world.cli.ok("dialin", "lookup", "--number", MAIN_TOLL, "--digits", world.facts["ada_id"])
    assert answer["result"] == "join"


def test_upcoming_leaves_out_meetings_that_are_over(world: World) -> None:
    past = world.cli.ok(
        "meeting", "schedule", "--organizer", ADA, "--subject", "Old", "--start", "2020-01-01T09:00", "--end", "2020-01-01T10:00"
    )
    series = world.cli.ok(
        "meeting", "schedule", "--organizer", ADA, "--subject", "Forever", "--start", "2020-01-06T09:00",
        "--end", "2020-01-06T10:00", "--rrule", "FREQ=WEEKLY;BYDAY=MO",
    )  # fmt: skip
    future = schedule(world, ADA)
    assert [m["id"] for m in world.cli.ok("meeting", "list")] == [past["id"], series["id"], future["id"]]
    assert [m["id"] for m in world.cli.ok("meeting", "list", "--upcoming")] == [series["id"], future["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--organizer", ADA, "--start", "2026-12-01T10:00", "--end", "2026-12-01T09:00"),
            "the meeting must end after it starts (--end is not after --start)",
            id="end-before-start",
        ),
        pytest.param(
            ("--organizer", "ghost@contoso.com", *WHEN), "user 'ghost@contoso.com' does not exist", id="unknown-organizer"
        ),
        pytest.param(
            ("--organizer", ADA, *WHEN, "--rrule", "FREQ=SOMETIMES"),
            "malformed RRULE 'FREQ=SOMETIMES': Expected frequency, got: SOMETIMES",
            id="malformed-rrule",
        ),
        pytest.param(
            ("--organizer", ADA, *WHEN, "--timezone", "Mars/Olympus_Mons"),
            "unknown timezone 'Mars/Olympus_Mons' (use an IANA name such as Europe/Paris)",
            id="unknown-timezone",
        ),
        pytest.param(
            ("--organizer", TP, *WHEN),
            f"user '{TP}' has a third-party audio conferencing provider: dialconf does not host their "
            "meetings; schedule them with that provider",
            id="third-party-organizer",
        ),
        pytest.param(
            ("--organizer", ADA, *WHEN, "--attendee", "not an address"),
            "attendee 'not an address' is not an email address",
            id="bad-attendee",
        ),
        pytest.param(("--organizer", ADA, "--start", "tomorrow", "--end", "2026-12-01T10:00"), None, id="bad-time"),
        pytest.param(
            ("--organizer", ADA, *WHEN, "--subject", "x" * 251),
            "the subject is longer than 250 characters",
            id="subject-too-long",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    world: World, args: tuple[str, ...], message: str | None
) -> None:
    before = world.state()
    result = world.cli("meeting", "schedule", "--subject", "Sync", *args, "--attendee", "bob@example.com")
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.err.startswith("dialconf: ")
    if message is not None:
        assert result.err == f"dialconf: {message}\n"
    assert world.state() == before


def test_a_disabled_organizer_is_refused_and_nothing_changes(world: World) -> None:
    world.cli.ok("user", "disable", ADA, "--no-email")
    before = world.state()
    result = world.cli("meeting", "schedule", "--organizer", ADA, "--subject", "Sync", *WHEN)
    assert (result.code, result.err) == (
        1,
        f"dialconf: user '{ADA}' is disabled: enable the user before scheduling meetings\n",
    )
    assert world.state() == before


def test_another_tenants_admin_can_neither_schedule_for_nor_see_our_meetings(world: World) -> None:
    ours = schedule(world, ADA)
    ghost = max(ours["id"], 1) + 1000
    as_fabrikam = ("--as", FABRIKAM_ADMIN)
    before = world.state()
    for_ada = world.cli(*as_fabrikam, "meeting", "schedule", "--organizer", ADA, "--subject", "x", *WHEN)
    for_ghost = world.cli(*as_fabrikam, "meeting", "schedule", "--organizer", "nobody@contoso.com", "--subject", "x", *WHEN)
    assert for_ada.code == for_ghost.code == 1
    assert for_ada.err.replace(ADA, "?") == for_ghost.err.replace("nobody@contoso.com", "?")
    for command in ("show", "cancel"):
        real = world.cli(*as_fabrikam, "meeting", command, str(ours["id"]))
        unknown = world.cli(*as_fabrikam, "meeting", command, str(ghost))
        assert real.code == unknown.code == 1
        assert real.err.replace(str(ours["id"]), "?") == unknown.err.replace(str(ghost), "?")
    assert world.cli.ok(*as_fabrikam, "meeting", "list") == []
    listed = world.cli(*as_fabrikam, "meeting", "list", "--organizer", ADA)
    assert (listed.code, listed.err) == (1, f"dialconf: user '{ADA}' does not exist\n")
    assert world.state() == before
    # and their own meetings are theirs alone
    theirs = world.cli.ok(*as_fabrikam, "meeting", "schedule", "--organizer", BOB, "--subject", "Fab", *WHEN)
    assert [m["id"] for m in world.cli.ok("--as", ADMIN, "meeting", "list")] == [ours["id"]]
    assert [m["id"] for m in world.cli.ok("meeting", "list")] == [ours["id"], theirs["id"]]  # the operator


def test_helpdesk_may_list_and_show_but_not_schedule_or_cancel(world: World) -> None:
    ours = world.cli.ok("--as", ADMIN, "meeting", "schedule", "--organizer", ADA, "--subject", "Sync", *WHEN)
    as_helpdesk = ("--as", HELPDESK)
    assert world.cli.ok(*as_helpdesk, "meeting", "show", str(ours["id"])) == ours
    assert world.cli.ok(*as_helpdesk, "meeting", "list") == [ours]
    before = world.state()
    scheduled = world.cli(*as_helpdesk, "meeting", "schedule", "--organizer", ADA, "--subject", "x", *WHEN)
    cancelled = world.cli(*as_helpdesk, "meeting", "cancel", str(ours["id"]))
    for refused in (scheduled, cancelled):
        assert (refused.code, refused.err) == (1, f"dialconf: {HELPDESK} is a helpdesk and may not manage users\n")
    assert world.state() == before


def test_scheduling_and_cancelling_are_audited(world: World) -> None:
    meeting = schedule(world, DYN, "--attendee", "bob@example.com")
    world.cli.ok("meeting", "cancel", str(meeting["id"]))
    actions = [e["action"] for e in world.cli.ok("audit", "list", "--tenant", "northwind") if e["target"] == DYN]
    assert "meeting.schedule" in actions and "meeting.cancel" in actions
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(Meeting.sequence, Meeting.conference_id_row_id)).one() == (1, None)
    finally:
        engine.dispose()
