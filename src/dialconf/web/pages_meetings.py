"""Audio conferencing → Meetings: upcoming meetings, one meeting (and its cancel dialog), the schedule
form, and the meeting migration jobs.

Each route calls the service `dialconf meeting ...` calls. Like the users pane, the meeting view is a
page of its own (`/meetings/{id}`) and, for htmx, a partial (`/meetings/{id}/panel`); its cancel
dialog is a `role="dialog"` region swapped in (`?confirm=cancel`), and "Yes" answers an htmx request
with the view, a plain form POST with a redirect. Refusals about a field are shown beside it in the
service's words, the line the CLI prints after `dialconf: `.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialconf.domain.ids import format_for_callers
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import DialconfError, NotFound
from dialconf.services import meeting_migrations, meetings
from dialconf.services.meeting_migrations import STATES
from dialconf.web.auth import CsrfChecked, CurrentActor
from dialconf.web.deps import Uow
from dialconf.web.pages_users import current_tenant, is_htmx, tenant_choices
from dialconf.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
SCHEDULE_FIELDS = ("organizer", "subject", "start", "end", "timezone", "rrule", "attendees")
# what a redirect after a plain form POST says: a fixed text per code, never text from the URL
DONE = {
    "scheduled": "Meeting scheduled; the invitations are queued",
    "cancelled": "Meeting cancelled; the attendees are sent a cancellation",
    "migrated": "Migration run: its job is listed below",
}


def _meetings_base(uow: Uow, actor: Actor, tenant: str | None) -> dict[str, Any]:
    t = current_tenant(uow, actor, tenant)
    return {
        "tenant": t,
        "tenants": tenant_choices(uow, actor),
        "may_manage": actor.may(Permission.MANAGE_USERS),
        "spoken": format_for_callers,
    }


@router.get("/meetings")
def meetings_page(
    request: Request,
    actor: CurrentActor,
    uow: Uow,
    tenant: str | None = None,
    organizer: str = "",
    after: int | None = None,
    done: str = "",
) -> Response:
    """Upcoming meetings of the tenant, by start, optionally of one organizer."""
    context = _meetings_base(uow, actor, tenant)
    context.update(organizer=organizer, notice=DONE.get(done), errors={}, found=None, next_url=None)
    t = context["tenant"]
    if t is None:
        return render(request, "meetings.html", **context)
    status = 200
    try:
        found = meetings.list_meetings(
            uow,
            actor=actor,
            tenant=t.name,
            organizer=organizer.strip() or None,
            upcoming=True,
            limit=PAGE_SIZE + 1,
            after=after,
        )
    except DialconfError as exc:
        # an organizer nobody holds (or a page mark that names no meeting): said beside the filter
        if exc.status not in (404, 422):
            raise
        context["errors"] = {"organizer": exc.message}
        found, status = [], exc.status
    context["found"] = found[:PAGE_SIZE]
    keep = {k: v for k, v in (("tenant", tenant or ""), ("organizer", organizer.strip())) if v}
    if len(found) > PAGE_SIZE:
        context["next_url"] = "/meetings?" + urlencode({**keep, "after": found[PAGE_SIZE - 1].id})
    context["first_url"] = "/meetings?" + urlencode(keep) if after else None
    return render(request, "meetings.html", status_code=status, **context)


# --- schedule -----------------------------------------------------------------------------------------------


def schedule_field_of(message: str) -> str:
    """The schedule form's field beside which a refusal of schedule_meeting is shown."""
    if message.startswith("--start"):
        return "start"
    if message.startswith("--end") or "must end after it starts" in message or "lasts at most" in message:
        return "end"
    if message.startswith("unknown timezone"):
        return "timezone"
    if message.startswith(("malformed RRULE", "RRULE ")):
        return "rrule"
    if message.startswith(("a meeting needs a subject", "the subject")):
        return "subject"
    if message.startswith("attendee") or message.endswith("attendees"):
        return "attendees"
    return "organizer"  # unknown, disabled or third-party organizer, or one without a conference ID


def _schedule_form(
    request: Request,
    uow: Uow,
    actor: Actor,
    tenant: str | None,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    context = _meetings_base(uow, actor, tenant)
    return render(
        request,
        "meeting_new.html",
        status_code=status,
        values={"timezone": "UTC", **(values or {})},
        errors=errors or {},
        **context,
    )


@router.get("/meetings/new")
def schedule_page(
    request: Request, actor: CurrentActor, uow: Uow, tenant: str | None = None, organizer: str = ""
) -> Response:
    """The schedule form (dialconf meeting schedule)."""
    return _schedule_form(request, uow, actor, tenant, values={"organizer": organizer})


def attendee_list(text: str) -> list[str]:
    """The attendees box: addresses one per line, or separated by commas or semicolons."""
    return [part.strip() for part in text.replace(";", "\n").replace(",", "\n").splitlines() if part.strip()]


@router.post("/meetings")
def schedule(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()] = "",
    organizer: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    rrule: Annotated[str, Form()] = "",
    attendees: Annotated[str, Form()] = "",
) -> Response:
    """Schedule a meeting; a refusal is shown beside its field."""
    values = dict(zip(SCHEDULE_FIELDS, (organizer, subject, start, end, timezone, rrule, attendees), strict=True))
    try:
        made = meetings.schedule_meeting(
            uow,
            organizer=organizer,
            subject=subject,
            start=start,
            end=end,
            timezone=timezone or "UTC",
            rrule=rrule.strip() or None,
            attendees=attendee_list(attendees),
            actor=actor,
        )
    except DialconfError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = {schedule_field_of(exc.message): exc.message}
        return _schedule_form(request, uow, actor, tenant or None, status=exc.status, values=values, errors=errors)
    return RedirectResponse(f"/meetings/{made.id}?done=scheduled", status_code=303)


# --- one meeting --------------------------------------------------------------------------------------------


def _meeting_context(
    uow: Uow,
    actor: Actor,
    meeting_id: int,
    *,
    confirm: str | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    meeting = meetings.show_meeting(uow, meeting_id=meeting_id, actor=actor)
    return {
        "meeting": meeting,
        "confirm": confirm if confirm == "cancel" and meeting.status == "scheduled" else None,
        "notice": notice,
        "meeting_error": error,
        "may_manage": actor.may(Permission.MANAGE_USERS),
        "spoken": format_for_callers,
        "base": f"/meetings/{meeting.id}",
    }


@router.get("/meetings/{meeting_id:int}")
def meeting_page(
    request: Request, actor: CurrentActor, uow: Uow, meeting_id: int, confirm: str | None = None, done: str = ""
) -> Response:
    """One meeting (with `?confirm=cancel`, its cancel dialog)."""
    context = _meeting_context(uow, actor, meeting_id, confirm=confirm, notice=DONE.get(done))
    return render(request, "meeting.html", **context)


@router.get("/meetings/{meeting_id:int}/panel")
def meeting_panel(
    request: Request, actor: CurrentActor, uow: Uow, meeting_id: int, confirm: str | None = None
) -> Response:
    """The meeting's view alone, for htmx to swap in (the cancel dialog, or back from it)."""
    return render(request, "_meeting.html", **_meeting_context(uow, actor, meeting_id, confirm=confirm))


@router.post("/meetings/{meeting_id:int}/cancel")
def cancel(request: Request, actor: CsrfChecked, uow: Uow, meeting_id: int) -> Response:
    """Yes in the "Cancel meeting?" dialog."""
    try:
        meetings.cancel_meeting(uow, meeting_id=meeting_id, actor=actor)
    except DialconfError as exc:
        # htmx does not swap an error status: the view says why; a plain form gets the error page
        if not is_htmx(request) or isinstance(exc, NotFound):
            raise
        return render(request, "_meeting.html", **_meeting_context(uow, actor, meeting_id, error=exc.message))
    if is_htmx(request):
        context = _meeting_context(uow, actor, meeting_id, notice=DONE["cancelled"])
        return render(request, "_meeting.html", **context)
    return RedirectResponse(f"/meetings/{meeting_id}?done=cancelled", status_code=303)


# --- migrations ---------------------------------------------------------------------------------------------


def _migrations(
    request: Request,
    uow: Uow,
    actor: Actor,
    *,
    upn: str = "",
    state: str = "",
    status: int = 200,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    migrate_upn: str = "",
) -> Response:
    wanted = state if state in STATES else ""
    context: dict[str, Any] = {
        "upn": upn,
        "state": wanted,
        "states": STATES,
        "notice": notice,
        "errors": errors or {},
        "values": {"migrate_upn": migrate_upn},
        "may_manage": actor.may(Permission.MANAGE_USERS),
        "every_tenant": actor.role is Role.OPERATOR,
    }
    try:
        context["summary"] = meeting_migrations.migration_summary(uow, actor=actor, upn=upn.strip() or None)
        context["jobs"] = meeting_migrations.migration_status(
            uow, actor=actor, upn=upn.strip() or None, state=wanted or None, limit=200
        )
    except NotFound as exc:  # a filter naming nobody: said beside it
        context["errors"] = {**context["errors"], "upn": exc.message}
        context["summary"], context["jobs"] = None, []
        status = exc.status if status == 200 else status
    return render(request, "migrations.html", status_code=status, **context)


@router.get("/meetings/migrations")
def migrations_page(
    request: Request, actor: CurrentActor, uow: Uow, upn: str = "", state: str = "", done: str = ""
) -> Response:
    """Meeting migration jobs: how many in each state, the newest jobs, and Migrate now."""
    return _migrations(request, uow, actor, upn=upn, state=state, notice=DONE.get(done))


@router.post("/meetings/migrations")
def migrate_now(request: Request, actor: CsrfChecked, uow: Uow, upn: Annotated[str, Form()] = "") -> Response:
    """Migrate now: rewrite and re-send one user's upcoming invitations (dialconf meeting migrate UPN)."""
    try:
        view = meeting_migrations.migrate_now(uow, upn=upn, actor=actor)
    except DialconfError as exc:
        if exc.status not in (404, 409, 422):
            raise
        return _migrations(
            request, uow, actor, status=exc.status, errors={"migrate_upn": exc.message}, migrate_upn=upn
        )
    return RedirectResponse("/meetings/migrations?" + urlencode({"upn": view.upn, "done": "migrated"}), status_code=303)
