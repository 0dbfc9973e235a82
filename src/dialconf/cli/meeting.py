"""dialconf meeting ..."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import emit_json, say, show_record, show_table
from dialconf.domain.roles import Permission
from dialconf.errors import InvalidInput

if TYPE_CHECKING:
    from dialconf.services.meetings import MeetingView

NAME = "meeting"
HELP = "Meetings and their invitations: each carries the dial-in block and its conference ID."
app = App(help=HELP)
# meeting IDs are positive 64-bit integers; a larger number names no meeting (and would overflow the driver)
MAX_MEETING_ID = 2**63 - 1


def _existing_id(meeting_id: int) -> int:
    from dialconf.services.meetings import MeetingNotFound

    if not 0 < meeting_id <= MAX_MEETING_ID:
        raise MeetingNotFound(meeting_id)
    return meeting_id


def _show(view: MeetingView, title: str | None = None) -> None:
    from dialconf.domain.ids import format_for_callers

    show_record(
        title or f"Meeting {view.id}",
        [
            ("organizer", view.organizer),
            ("subject", view.subject),
            ("start", view.start),
            ("end", view.end),
            ("timezone", view.timezone),
            ("repeats", view.rrule or "no"),
            ("attendees", ", ".join(view.attendees) or "none"),
            ("conference ID", format_for_callers(view.conference_id)),
            ("status", view.status),
        ],
    )


@app.command("schedule")
def schedule(
    ctx: Context,
    organizer: str = Option(..., "--organizer", metavar="UPN", help="The organizer's sign-in name."),
    subject: str = Option(..., "--subject", metavar="TEXT", help="What the meeting is about."),
    start: str = Option(
        ..., "--start", metavar="ISO", help="First start, e.g. 2026-12-01T09:00 (in --timezone unless it has an offset)."
    ),
    end: str = Option(..., "--end", metavar="ISO", help="First end, after --start."),
    timezone: str = Option("UTC", "--timezone", metavar="TZ", help="IANA timezone, e.g. Europe/Paris (default UTC)."),
    rrule: str | None = Option(
        None, "--rrule", metavar="RRULE", help="Recurrence (RFC 5545), e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10."
    ),
    attendee: list[str] = Option([], "--attendee", metavar="ADDR", help="Email of an attendee; repeat for more."),
    as_json: bool = JSON,
) -> None:
    """Schedule a meeting and email its invitation (.ics) to every attendee.

    Dynamic mode gives the meeting its own conference ID; static mode uses the organizer's.
    """
    from dialconf.services import meetings

    rt = runtime(ctx)
    view = meetings.schedule_meeting(
        rt.uow(),
        organizer=organizer,
        subject=subject,
        start=start,
        end=end,
        timezone=timezone,
        rrule=rrule,
        attendees=attendee,
        actor=rt.actor,
    )
    if as_json:
        emit_json(view)
        return
    say(f"meeting {view.id} scheduled" + (f"; invitation queued for {len(view.attendees)}" if view.attendees else ""))
    _show(view)


@app.command("cancel")
def cancel(ctx: Context, meeting_id: int = Argument(..., metavar="ID"), as_json: bool = JSON) -> None:
    """Cancel a meeting: attendees get a cancellation; its own conference ID stops working at once."""
    from dialconf.services import meetings

    rt = runtime(ctx)
    view = meetings.cancel_meeting(rt.uow(), meeting_id=_existing_id(meeting_id), actor=rt.actor)
    if as_json:
        emit_json(view)
        return
    say(f"meeting {view.id} cancelled")
    _show(view)


@app.command("show")
def show(ctx: Context, meeting_id: int = Argument(..., metavar="ID"), as_json: bool = JSON) -> None:
    """Show a meeting."""
    from dialconf.services import meetings

    rt = runtime(ctx)
    view = meetings.show_meeting(rt.uow(), meeting_id=_existing_id(meeting_id), actor=rt.actor)
    emit_json(view) if as_json else _show(view)


@app.command("list")
def list_(
    ctx: Context,
    organizer: str | None = Option(None, "--organizer", metavar="UPN", help="Only this organizer's meetings."),
    tenant: str | None = Option(None, "--tenant", "-t", metavar="T", help="Only this tenant's meetings."),
    upcoming: bool = Option(False, "--upcoming", help="Only meetings not yet over (a series until its last one)."),
    cancelled: bool = Option(False, "--cancelled", help="Include cancelled meetings."),
    as_json: bool = JSON,
) -> None:
    """List scheduled meetings by start."""
    from dialconf.domain.ids import format_for_callers
    from dialconf.services import meetings

    rt = runtime(ctx)
    views = meetings.list_meetings(
        rt.uow(), actor=rt.actor, tenant=tenant, organizer=organizer, upcoming=upcoming, include_cancelled=cancelled
    )
    if as_json:
        emit_json(views)
        return
    show_table(
        ["id", "start", "subject", "organizer", "conference ID", "repeats", "status"],
        [
            [v.id, v.start, v.subject, v.organizer, format_for_callers(v.conference_id), v.rrule or "", v.status]
            for v in views
        ],
        empty="no meetings",
        whole={"organizer"},
    )


@app.command("expire")
def expire(ctx: Context, as_json: bool = JSON) -> None:
    """Quarantine the own conference ID of every meeting that ended more than the tenant's grace ago.

    `dialconf worker` and `dialconf up` do this on their own every 30 seconds.
    """
    from dialconf.services import meetings

    rt = runtime(ctx)
    actor = rt.require(Permission.RUN_SERVICES)
    result = meetings.release_expired_meeting_ids(rt.uow(), actor=actor)
    if as_json:
        emit_json(result)
        return
    say(f"{result.released} meeting ID(s) released into quarantine")


@app.command("migrate")
def migrate(ctx: Context, upn: str, as_json: bool = JSON) -> None:
    """Rewrite the dial-in block of UPN's upcoming meetings now and re-send the changed invitations."""
    from dialconf.services import meeting_migrations

    rt = runtime(ctx)
    view = meeting_migrations.migrate_now(rt.uow(), upn=upn, actor=rt.actor)
    if as_json:
        emit_json(view)
        return
    say(f"migration job {view.id} of {view.upn}: {view.state}; {view.last_message or ''}")


@app.command("run-migrations")
def run_migrations(ctx: Context, as_json: bool = JSON) -> None:
    """Run the meeting migration jobs that are due (pending, or failed and past their backoff).

    `dialconf worker` and `dialconf up` do this on their own every 30 seconds.
    """
    from dialconf.services import meeting_migrations

    rt = runtime(ctx)
    actor = rt.require(Permission.RUN_SERVICES)
    views = meeting_migrations.run_due_jobs(rt.uow(), actor=actor)
    if as_json:
        emit_json(views)
        return
    say(f"{len(views)} migration job(s) run")


@app.command("migration-status")
def migration_status(
    ctx: Context,
    upn: str | None = Option(None, "--upn", metavar="UPN", help="Only this organizer's jobs."),
    state: str | None = Option(
        None, "--state", metavar="pending|in_progress|succeeded|failed", help="Only jobs in this state."
    ),
    summary: bool = Option(False, "--summary", help="Only how many jobs are in each state."),
    as_json: bool = JSON,
) -> None:
    """List meeting migration jobs, newest first, with their state and last message."""
    from dialconf.services import meeting_migrations

    rt = runtime(ctx)
    if summary:
        if state is not None:
            raise InvalidInput("--summary counts every state; leave out --state")
        counts = meeting_migrations.migration_summary(rt.uow(), actor=rt.actor, upn=upn)
        emit_json(counts) if as_json else show_table(["state", "jobs"], list(counts.items()))
        return
    views = meeting_migrations.migration_status(rt.uow(), actor=rt.actor, upn=upn, state=state)
    if as_json:
        emit_json(views)
        return
    show_table(
        ["id", "upn", "reason", "state", "attempts", "updated", "last message"],
        [
            [v.id, v.upn, v.reason, v.state, v.attempts, v.updated_at.strftime("%Y-%m-%d %H:%M"), v.last_message]
            for v in views
        ],
        empty="no migration jobs",
        whole={"upn"},
    )
