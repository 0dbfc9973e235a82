"""Meeting migration after a static conference ID reset: the upcoming invitations are re-sent, once."""

from __future__ import annotations

import icalendar
from sqlalchemy import select

from dialconf.store.db import make_engine
from dialconf.store.models import OutboxMail
from tests.e2e.conftest import ADA, DYN, NORTHWIND_TOLL, World
from tests.support.radicale import unreachable_calendar_url

UPCOMING = ("--start", "2030-03-04T09:00", "--end", "2030-03-04T10:00")
PAST = ("--start", "2020-03-02T09:00", "--end", "2020-03-02T10:00")


def _invitations(world: World, to: str) -> list[icalendar.Event]:
    """The VEVENT of every invitation queued to `to`, oldest first."""
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


def _schedule(world: World, attendee: str, when: tuple[str, ...]) -> dict:
    return world.cli.ok(  # type: ignore[no-any-return]
        "meeting", "schedule", "--organizer", ADA, "--subject", "Sync", *when, "--attendee", attendee
    )


def test_a_static_reset_queues_a_job_that_resends_each_upcoming_invitation_once(world: World) -> None:
    old_id = world.facts["ada_id"]
    upcoming = _schedule(world, "bob@example.com", UPCOMING)
    past = _schedule(world, "eve@example.com", PAST)
    new_id = world.cli.ok("user", "reset-conference-id", ADA, "--no-email")["conference_id"]

    (job,) = world.cli.ok("meeting", "migration-status", "--upn", ADA)
    assert (job["state"], job["reason"], job["attempts"]) == ("pending", "conference ID reset", 0)
    assert world.cli.ok("meeting", "migration-status", "--upn", ADA, "--summary")["pending"] == 1

    (ran,) = [r for r in world.cli.ok("meeting", "run-migrations") if r["upn"] == ADA]
    assert (ran["id"], ran["state"], ran["meetings_updated"]) == (job["id"], "succeeded", 1)

    first, resent = _invitations(world, "bob@example.com")
    assert str(resent["UID"]) == str(first["UID"])
    assert (int(first["SEQUENCE"]), int(resent["SEQUENCE"])) == (0, 1)
    spoken = f"{new_id[:3]} {new_id[3:6]} {new_id[6:]}#"
    assert str(resent["DESCRIPTION"]).rstrip("_\n").endswith(f"Conference ID: {spoken}")
    assert world.cli.ok("meeting", "show", str(upcoming["id"]))["conference_id"] == new_id
    # the past meeting is left as it was
    assert len(_invitations(world, "eve@example.com")) == 1
    assert world.cli.ok("meeting", "show", str(past["id"]))["conference_id"] == old_id

    # a second run changes nothing
    before = _invitations(world, "bob@example.com")
    again = world.cli.ok("meeting", "migrate", ADA)
    assert (again["state"], again["meetings_updated"]) == ("succeeded", 0)
    assert len(_invitations(world, "bob@example.com")) == len(before)
    assert world.cli.ok("meeting", "run-migrations") == []


def test_no_job_when_the_tenant_turned_meeting_migration_off(world: World) -> None:
    _schedule(world, "bob@example.com", UPCOMING)
    world.cli.ok("tenant", "set", "contoso", "--no-meeting-migration")
    world.cli.ok("user", "reset-conference-id", ADA, "--no-email")
    assert world.cli.ok("meeting", "migration-status", "--upn", ADA) == []
    assert len(_invitations(world, "bob@example.com")) == 1


def test_setting_a_chosen_id_queues_a_job_too(world: World) -> None:
    _schedule(world, "bob@example.com", UPCOMING)
    world.cli.ok("user", "set-conference-id", ADA, "5550100", "--no-email")
    (job,) = world.cli.ok("meeting", "migration-status", "--upn", ADA, "--state", "pending")
    assert job["reason"] == "conference ID set"
    world.cli.ok("meeting", "run-migrations")
    assert "Conference ID: 555 010 0#" in str(_invitations(world, "bob@example.com")[-1]["DESCRIPTION"])


def test_a_job_that_cannot_run_fails_with_its_reason_and_is_kept_for_a_retry(world: World) -> None:
    _schedule(world, "bob@example.com", UPCOMING)
    # the tenant's calendar server is down: the job's calendar step cannot run
    url = unreachable_calendar_url()
    server = url.removeprefix("http://").split("/")[0]
    world.cli.ok("tenant", "set", "contoso", "--caldav-url", url)
    result = world.cli("meeting", "migrate", ADA)
    assert result.code == 1
    assert result.err.startswith("dialconf: migration job ") and server in result.err
    (failed,) = world.cli.ok("meeting", "migration-status", "--upn", ADA, "--state", "failed")
    assert failed["attempts"] == 1 and server in failed["last_message"]
    assert world.cli.ok("meeting", "migration-status", "--upn", ADA, "--summary") == {
        "pending": 0, "in_progress": 0, "succeeded": 0, "failed": 1,
    }  # fmt: skip
    assert len(_invitations(world, "bob@example.com")) == 1  # nothing re-sent


def test_a_dynamic_reset_gives_each_upcoming_meeting_a_new_id_and_resends_it(world: World) -> None:
    def schedule(when: tuple[str, ...], attendee: str) -> dict:
        return world.cli.ok(  # type: ignore[no-any-return]
            "meeting", "schedule", "--organizer", DYN, "--subject", "Plan", *when, "--attendee", attendee
        )

    first = schedule(UPCOMING, "bob@example.com")
    second = schedule(("--start", "2030-03-05T09:00", "--end", "2030-03-05T10:00"), "bob@example.com")
    past = schedule(PAST, "eve@example.com")
    reset = world.cli.ok("user", "reset-conference-id", DYN, "--no-email")
    assert reset["meetings_renewed"] == 2
    assert reset["message"].endswith("2 renewed")

    for before in (first, second):
        after = world.cli.ok("meeting", "show", str(before["id"]))
        assert after["conference_id"] != before["conference_id"]
        lookup = ("dialin", "lookup", "--number", NORTHWIND_TOLL, "--digits")
        assert world.cli.ok(*lookup, before["conference_id"])["result"] == "reject"
        assert world.cli.ok(*lookup, after["conference_id"])["result"] == "join"
    assert world.cli.ok("meeting", "show", str(past["id"]))["conference_id"] == past["conference_id"]

    (ran,) = [r for r in world.cli.ok("meeting", "run-migrations") if r["upn"] == DYN]
    assert (ran["state"], ran["meetings_updated"]) == ("succeeded", 2)
    resent = _invitations(world, "bob@example.com")[2:]
    assert sorted(int(e["SEQUENCE"]) for e in resent) == [1, 1]
    new_ids = {world.cli.ok("meeting", "show", str(m["id"]))["conference_id"] for m in (first, second)}
    assert {str(e["DESCRIPTION"]).split("Conference ID: ")[1][:9].replace(" ", "") for e in resent} == new_ids
    assert len(_invitations(world, "eve@example.com")) == 1


def test_a_bulk_reset_queues_one_job_per_user_with_upcoming_meetings(world: World) -> None:
    _schedule(world, "bob@example.com", UPCOMING)
    world.cli.ok("user", "bulk-reset-conference-id", "--tenant", "contoso", "--yes", "--no-email")
    jobs = world.cli.ok("meeting", "migration-status", "--state", "pending")
    assert [j["upn"] for j in jobs] == [ADA]  # grace has no upcoming meeting: nothing to migrate
    world.cli.ok("meeting", "run-migrations")
    new_id = world.cli.ok("user", "show", ADA)["conference_id"]
    spoken = f"{new_id[:3]} {new_id[3:6]} {new_id[6:]}#"
    assert f"Conference ID: {spoken}" in str(_invitations(world, "bob@example.com")[-1]["DESCRIPTION"])
