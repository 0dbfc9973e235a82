"""Meetings and their migration jobs: `dialconf meeting ...` over HTTP.

Answers carry the fields of the CLI's --json: a meeting as `meeting show` prints it, a migration
job as one row of `meeting migration-status`. Another tenant's meeting is "not found", worded as
for an ID nobody holds. Scheduling, cancelling and migrating by hand are an admin's; helpdesk
accounts list and show (the services decide).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from dialconf.services import meeting_migrations, meetings
from dialconf.web.api.models import MeetingOut, MeetingPage, MigrationOut, MigrationSummaryOut, Request
from dialconf.web.api.paging import MAX_ID, decode_id
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CurrentActor
from dialconf.web.deps import Uow

router = APIRouter(tags=["meetings"])
READ = problem_responses(404, 422)
WRITE = problem_responses(404, 409, 422)
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_LIST_LIMIT = 1000


class MeetingSchedule(Request):
    """The options of `dialconf meeting schedule`."""

    organizer: str = Field(description="The organizer's sign-in name.")
    subject: str
    start: str = Field(description="First start, ISO 8601 (in `timezone` unless it has an offset).")
    end: str = Field(description="First end, after `start`.")
    timezone: str = Field(default="UTC", description="IANA timezone, e.g. Europe/Paris.")
    rrule: str | None = Field(default=None, description="Recurrence (RFC 5545), e.g. FREQ=WEEKLY;COUNT=10.")
    attendees: list[str] = Field(default=[], description="Email addresses; each gets the invitation.")


@router.get("/meetings", response_model=MeetingPage, responses=READ, summary="Meetings by start")
def list_meetings(
    actor: CurrentActor,
    uow: Uow,
    tenant: Annotated[str | None, Query(description="Only this tenant's meetings.")] = None,
    organizer: Annotated[str | None, Query(description="Only this organizer's meetings.")] = None,
    upcoming: Annotated[bool, Query(description="Only meetings not yet over (a series until its last one).")] = False,
    cancelled: Annotated[bool, Query(description="Include cancelled meetings.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page.")] = None,
) -> dict[str, Any]:
    # one more than asked: whether it comes back says if there is a next page
    found = meetings.list_meetings(
        uow,
        actor=actor,
        tenant=tenant,
        organizer=organizer,
        upcoming=upcoming,
        include_cancelled=cancelled,
        limit=limit + 1,
        after=decode_id(cursor),
    )
    items = found[:limit]
    return {
        "items": [v.to_dict() for v in items],
        "next_cursor": str(items[-1].id) if len(found) > limit else None,
    }


@router.post(
    "/meetings",
    status_code=201,
    response_model=MeetingOut,
    responses=WRITE,
    summary="Schedule a meeting and email its invitation (admin)",
)
def schedule_meeting(body: MeetingSchedule, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return meetings.schedule_meeting(
        uow,
        organizer=body.organizer,
        subject=body.subject,
        start=body.start,
        end=body.end,
        timezone=body.timezone,
        rrule=body.rrule,
        attendees=body.attendees,
        actor=actor,
    ).to_dict()


@router.get("/meetings/{meeting_id}", response_model=MeetingOut, responses=READ, summary="Show a meeting")
def show_meeting(meeting_id: MeetingId, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return meetings.show_meeting(uow, meeting_id=meeting_id, actor=actor).to_dict()


@router.post(
    "/meetings/{meeting_id}/cancel",
    response_model=MeetingOut,
    responses=WRITE,
    summary="Cancel a meeting: attendees get a cancellation (admin)",
)
def cancel_meeting(meeting_id: MeetingId, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return meetings.cancel_meeting(uow, meeting_id=meeting_id, actor=actor).to_dict()


@router.post(
    "/users/{upn:path}/meetings/migrate",
    response_model=MigrationOut,
    responses=WRITE,
    summary="Rewrite and re-send the user's upcoming invitations now (admin)",
)
def migrate(upn: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return meeting_migrations.migrate_now(uow, upn=upn, actor=actor).to_dict()


@router.get(
    "/meeting-migrations",
    response_model=list[MigrationOut],
    responses=READ,
    summary="Meeting migration jobs, newest first",
)
def migration_status(
    actor: CurrentActor,
    uow: Uow,
    upn: Annotated[str | None, Query(description="Only this organizer's jobs.")] = None,
    state: Annotated[Literal["pending", "in_progress", "succeeded", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 500,
) -> list[dict[str, Any]]:
    views = meeting_migrations.migration_status(uow, actor=actor, upn=upn, state=state, limit=limit)
    return [v.to_dict() for v in views]


@router.get(
    "/meeting-migrations/summary",
    response_model=MigrationSummaryOut,
    responses=READ,
    summary="How many migration jobs are in each state",
)
def migration_summary(
    actor: CurrentActor,
    uow: Uow,
    upn: Annotated[str | None, Query(description="Only this organizer's jobs.")] = None,
) -> dict[str, int]:
    return meeting_migrations.migration_summary(uow, actor=actor, upn=upn)
