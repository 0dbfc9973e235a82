"""A failed meeting migration job waits for its backoff, then is tried again and can succeed (injected clock)."""

from __future__ import annotations

from datetime import timedelta

from dialconf.services import meeting_migrations, meetings, resets, tenants, users
from dialconf.services.meetings import MeetingView
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, FakeClock, make_tenant, make_user
from tests.support.radicale import unreachable_calendar_url

ADA = "ada@contoso.com"


def _a_meeting_that_cannot_be_migrated(database_url: str, clock: FakeClock) -> tuple[UnitOfWork, MeetingView]:
    uow = make_uow(database_url, clock=clock)
    make_tenant(uow)  # static IDs
    make_user(uow, ADA)
    start = clock.current + timedelta(days=7)
    meeting = meetings.schedule_meeting(
        uow,
        organizer=ADA,
        subject="Sync",
        start=start.isoformat(),
        end=(start + timedelta(hours=1)).isoformat(),
        attendees=["bob@example.com"],
        actor=OPERATOR,
    )
    # a new ID to write into her invitation, and the tenant's calendar server is down
    resets.reset_conference_id(uow, upn=ADA, actor=OPERATOR, send_email=False)
    tenants.update_settings(uow, name="contoso", actor=OPERATOR, caldav_url=unreachable_calendar_url())
    return uow, meeting


def test_a_failed_job_is_retried_after_its_backoff_and_then_succeeds(database_url: str) -> None:
    clock = FakeClock()
    uow, meeting = _a_meeting_that_cannot_be_migrated(database_url, clock)

    failed = meeting_migrations.migrate_organizer(uow, upn=ADA, actor=OPERATOR)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "127.0.0.1" in (failed.last_message or "")
    # her own invitation was re-sent with the new ID before the calendar step failed
    new_id = users.show_user(uow, upn=ADA, actor=OPERATOR).conference_id
    assert new_id is not None and new_id != meeting.conference_id
    assert meetings.show_meeting(uow, meeting_id=meeting.id, actor=OPERATOR).conference_id == new_id

    clock.advance(seconds=59)  # the first retry waits a minute
    assert meeting_migrations.run_due_jobs(uow, actor=OPERATOR) == []

    tenants.update_settings(uow, name="contoso", actor=OPERATOR, caldav_url="")  # the calendar disconnected
    clock.advance(seconds=1)
    (retried,) = meeting_migrations.run_due_jobs(uow, actor=OPERATOR)
    # nothing left to re-send: the invitation already carries the new ID
    assert (retried.id, retried.state, retried.attempts, retried.meetings_updated) == (failed.id, "succeeded", 2, 0)
    assert meetings.show_meeting(uow, meeting_id=meeting.id, actor=OPERATOR).conference_id == new_id
    assert meeting_migrations.run_due_jobs(uow, actor=OPERATOR) == []


def test_a_due_job_that_another_worker_tried_meanwhile_is_left_to_its_new_backoff(database_url: str) -> None:
    # two workers find the same failed job due; the second to lock it sees one more try than it saw
    clock = FakeClock()
    uow, _ = _a_meeting_that_cannot_be_migrated(database_url, clock)
    failed = meeting_migrations.migrate_organizer(uow, upn=ADA, actor=OPERATOR)
    clock.advance(seconds=60)
    seen = failed.attempts  # what both workers read when they listed the due jobs

    first = meeting_migrations.run_job(uow, job_id=failed.id, actor=OPERATOR, seen_attempts=seen)
    assert first is not None and (first.state, first.attempts) == ("failed", 2)
    second = meeting_migrations.run_job(uow, job_id=failed.id, actor=OPERATOR, seen_attempts=seen)
    assert second is None
    (job,) = meeting_migrations.migration_status(uow, actor=OPERATOR, upn=ADA)
    assert (job.state, job.attempts) == ("failed", 2)
