"""Meetings: scheduling, cancelling and listing them, their invitations, and the expiry of their IDs.

Dynamic mode (the tenant default): each meeting gets its own conference ID from the bridge's
allocator (a conference_ids row of kind "meeting", owned by the organizer), which `meetings`
points at while it is live. A cancelled meeting releases its ID into quarantine at once; an ended
one `meeting_id_grace_days` after its last occurrence (`release_expired_meeting_ids`); a recurrence
without COUNT or UNTIL never ends. Static mode: a meeting carries the organizer's own ID.

Who may: admins (and the operator) schedule and cancel for the users of their tenant; helpdesk
accounts may list and show. Each change is one transaction with its audit event and its emails.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from dialconf.calendars import ics
from dialconf.domain import numbers
from dialconf.domain.ids import format_for_callers
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import Conflict, InvalidInput, NotAllowedForProvider, NotFound
from dialconf.services import conference_ids
from dialconf.services.common import audit, get_tenant, get_user, require
from dialconf.services.directory import own_or_bridge_toll
from dialconf.services.outbox import queue_invitation
from dialconf.services.views import View
from dialconf.store.models import Bridge, ConferenceIdRow, Meeting, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

MAX_ATTENDEES = 500
# a cancellation's subject adds "Cancelled: " and must still fit the outbox's 300 characters
MAX_SUBJECT = 250


class MeetingNotFound(NotFound):
    def __init__(self, meeting_id: int | str) -> None:
        super().__init__(f"meeting {meeting_id} does not exist")


@dataclass(frozen=True)
class MeetingView(View):
    id: int
    organizer: str  # UPN
    subject: str
    start: str  # ISO 8601 in the meeting's timezone
    end: str
    timezone: str
    rrule: str | None
    attendees: list[str]
    conference_id: str  # digits
    status: str  # scheduled | cancelled


@dataclass(frozen=True)
class ExpiryResult(View):
    released: int
    meetings: list[int]


@dataclass(frozen=True)
class _When:
    start: datetime  # aware, in `zone`
    end: datetime
    zone: tzinfo
    timezone: str
    rrule: str | None
    last_end: datetime | None  # UTC; None: never ends


def _parse_time(value: str, zone: tzinfo, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"--{what} must be an ISO 8601 date and time such as 2026-12-01T09:00, not '{value}'") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone)
    return parsed.astimezone(zone)


def _parse_when(start: str, end: str, timezone: str, rrule: str | None) -> _When:
    try:
        zone = ics.zone(timezone.strip())
    except ics.CalendarInputError as exc:
        raise InvalidInput(str(exc)) from None
    first_start = _parse_time(start, zone, "start")
    first_end = _parse_time(end, zone, "end")
    if first_end <= first_start:
        raise InvalidInput("the meeting must end after it starts (--end is not after --start)")
    duration = first_end - first_start
    if duration > timedelta(days=14):
        raise InvalidInput("a meeting lasts at most 14 days; use --rrule for a series")
    canonical: str | None = None
    last_end: datetime | None = first_end.astimezone(UTC)
    if rrule is not None and rrule.strip():
        try:
            recurrence = ics.parse_recurrence(rrule, first_start)
        except ics.CalendarInputError as exc:
            raise InvalidInput(str(exc)) from None
        canonical = recurrence.rrule
        last_end = (recurrence.last_start + duration).astimezone(UTC) if recurrence.last_start else None
    return _When(first_start, first_end, zone, timezone.strip(), canonical, last_end)


def _clean_subject(subject: str) -> str:
    cleaned = " ".join(subject.split())
    if not cleaned:
        raise InvalidInput("a meeting needs a subject (--subject)")
    if len(cleaned) > MAX_SUBJECT:
        raise InvalidInput(f"the subject is longer than {MAX_SUBJECT} characters")
    return cleaned


def _clean_attendees(attendees: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for given in attendees:
        addr = given.strip()
        _name, parsed = parseaddr(addr)
        bad = (
            not parsed
            or parsed != addr
            or any(c.isspace() or ord(c) < 32 for c in addr)
            or parsed.count("@") != 1
            or not all(parsed.split("@"))
            or "." not in parsed.split("@")[1]
        )
        if bad:
            raise InvalidInput(f"attendee '{given}' is not an email address")
        seen.setdefault(parsed.lower(), None)
    if len(seen) > MAX_ATTENDEES:
        raise InvalidInput(f"a meeting has at most {MAX_ATTENDEES} attendees")
    return list(seen)


def _view(meeting: Meeting, organizer_upn: str) -> MeetingView:
    zone = _zone_of(meeting)
    return MeetingView(
        id=meeting.id,
        organizer=organizer_upn,
        subject=meeting.subject,
        start=meeting.starts_at.astimezone(zone).isoformat(),
        end=meeting.ends_at.astimezone(zone).isoformat(),
        timezone=meeting.timezone,
        rrule=meeting.rrule,
        attendees=list(meeting.attendees),
        conference_id=meeting.conference_id,
        status=meeting.status,
    )


def _zone_of(meeting: Meeting) -> tzinfo:
    try:
        return ics.zone(meeting.timezone)
    except ics.CalendarInputError:  # a zone removed from the system's database since: show UTC
        return UTC


def _organizer_checks(user: User) -> None:
    if not user.enabled:
        raise InvalidInput(f"user '{user.upn}' is disabled: enable the user before scheduling meetings")
    if user.provider != "builtin":
        raise NotAllowedForProvider(
            f"user '{user.upn}' has a third-party audio conferencing provider: dialconf does not host "
            "their meetings; schedule them with that provider"
        )


def schedule_meeting(
    uow: UnitOfWork,
    *,
    organizer: str,
    subject: str,
    start: str,
    end: str,
    actor: Actor,
    timezone: str = "UTC",
    rrule: str | None = None,
    attendees: Sequence[str] = (),
    body: str = "",
) -> MeetingView:
    """Schedule a meeting for `organizer` and email the invitation (.ics, METHOD:REQUEST) to each attendee."""
    when = _parse_when(start, end, timezone, rrule)
    clean_subject = _clean_subject(subject)
    clean_attendees = _clean_attendees(attendees)
    with uow:
        user = get_user(uow, organizer, actor, Permission.MANAGE_USERS)
        _organizer_checks(user)
        tenant = uow.session.get(Tenant, user.tenant_id)
        bridge = uow.session.get(Bridge, user.bridge_id)
        assert tenant is not None and bridge is not None
        now = uow.now()
        row_id: int | None = None
        if tenant.conference_id_mode == "dynamic":
            digits = conference_ids.allocate(uow, bridge, owner_user_id=user.id, kind="meeting").digits
            row_id = uow.session.scalar(
                select(ConferenceIdRow.id).where(
                    ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits
                )
            )
        else:
            static = conference_ids.live_static_row(uow, user.id)
            if static is None:
                raise Conflict(f"user '{user.upn}' has no conference ID; reset it first")
            digits = static.digits
        meeting = Meeting(
            tenant_id=tenant.id,
            organizer_id=user.id,
            # from the system's CSPRNG, not uow.rng: a UID must be unique everywhere, even when a
            # test seeds the allocator's random source
            uid=f"{secrets.token_hex(16)}@{tenant.domain or 'dialconf.invalid'}",
            sequence=0,
            subject=clean_subject,
            starts_at=when.start.astimezone(UTC),
            ends_at=when.end.astimezone(UTC),
            timezone=when.timezone,
            rrule=when.rrule,
            last_ends_at=when.last_end,
            attendees=clean_attendees,
            conference_id=digits,
            dialin_block=ics.dialin_block(dial_in(uow, tenant, user, digits)),
            conference_id_row_id=row_id,
            status="scheduled",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(meeting)
        uow.session.flush()
        view = _view(meeting, user.upn)
        audit(
            uow,
            actor,
            "meeting.schedule",
            user.upn,
            tenant_id=tenant.id,
            after={k: v for k, v in view.to_dict().items() if k != "attendees"} | {
                "attendees": len(clean_attendees)
            },
        )
        send_invitation(uow, tenant, user, meeting, method="REQUEST", body=body)
        uow.commit()
        return view


def cancel_meeting(uow: UnitOfWork, *, meeting_id: int, actor: Actor) -> MeetingView:
    """Cancel a meeting: its own ID (dynamic mode) is quarantined at once, attendees get a METHOD:CANCEL."""
    with uow:
        meeting, user, tenant = _get_meeting(uow, meeting_id, actor, Permission.MANAGE_USERS)
        if meeting.status == "cancelled":
            raise Conflict(f"meeting {meeting_id} is already cancelled")
        before = _view(meeting, user.upn).to_dict()
        meeting.status = "cancelled"
        meeting.sequence += 1
        meeting.updated_at = uow.now()
        release_meeting_id(uow, meeting, tenant)
        uow.session.flush()
        view = _view(meeting, user.upn)
        audit(
            uow,
            actor,
            "meeting.cancel",
            user.upn,
            tenant_id=tenant.id,
            before={"id": before["id"], "status": before["status"], "conference_id": before["conference_id"]},
            after={"id": view.id, "status": view.status},
        )
        send_invitation(uow, tenant, user, meeting, method="CANCEL")
        uow.commit()
        return view


def show_meeting(uow: UnitOfWork, *, meeting_id: int, actor: Actor) -> MeetingView:
    with uow.read():
        meeting, user, _ = _get_meeting(uow, meeting_id, actor, Permission.VIEW)
        return _view(meeting, user.upn)


def list_meetings(
    uow: UnitOfWork,
    *,
    actor: Actor,
    tenant: str | None = None,
    organizer: str | None = None,
    upcoming: bool = False,
    include_cancelled: bool = False,
    limit: int | None = None,
    after: int | None = None,
) -> list[MeetingView]:
    """Meetings in the actor's reach, by start: of a tenant, of an organizer, only those not yet over.

    `limit` and `after` page by key: at most `limit` meetings, those that come after meeting `after`
    in the order (start, id); `after` must be a meeting in the actor's reach.
    """
    with uow.read():
        query = _meetings_query(uow, actor, tenant, organizer, upcoming, include_cancelled)
        if after is not None:
            mark = uow.session.execute(
                select(Meeting.starts_at, Meeting.id).where(
                    Meeting.id == after, *_reach(actor)
                )
            ).one_or_none()
            if mark is None:
                raise InvalidInput(f"meeting {after} is not one to continue after; start again from the first page")
            query = query.where(
                or_(Meeting.starts_at > mark.starts_at, and_(Meeting.starts_at == mark.starts_at, Meeting.id > mark.id))
            )
        query = query.order_by(Meeting.starts_at, Meeting.id)
        if limit is not None:
            query = query.limit(max(limit, 0))
        return [_view(meeting, upn) for meeting, upn in uow.session.execute(query)]


def count_meetings(uow: UnitOfWork, *, actor: Actor, organizer: str, upcoming: bool = True) -> int:
    """How many scheduled meetings `organizer` has (only those not yet over, by default)."""
    with uow.read():
        query = _meetings_query(uow, actor, None, organizer, upcoming, include_cancelled=False)
        return int(uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _reach(actor: Actor) -> list[Any]:
    """The conditions that keep an admin or helpdesk account inside its own tenant."""
    if actor.role is Role.OPERATOR:
        return []
    require(actor, Permission.VIEW)
    return [Meeting.tenant_id == actor.tenant_id]


def _meetings_query(
    uow: UnitOfWork,
    actor: Actor,
    tenant: str | None,
    organizer: str | None,
    upcoming: bool,
    include_cancelled: bool,
) -> Select[Meeting, str]:
    query = select(Meeting, User.upn).join(User, User.id == Meeting.organizer_id)
    if organizer is not None:
        query = query.where(Meeting.organizer_id == get_user(uow, organizer, actor, Permission.VIEW).id)
    if tenant is not None:
        query = query.where(Meeting.tenant_id == get_tenant(uow, tenant, actor, Permission.VIEW).id)
    query = query.where(*_reach(actor))
    if not include_cancelled:
        query = query.where(Meeting.status == "scheduled")
    if upcoming:
        query = query.where(or_(Meeting.last_ends_at.is_(None), Meeting.last_ends_at > uow.now()))
    return query


def release_expired_meeting_ids(uow: UnitOfWork, *, actor: Actor, now: datetime | None = None) -> ExpiryResult:
    """Quarantine the own ID of every meeting whose last occurrence ended more than the tenant's grace ago."""
    require(actor, Permission.RUN_SERVICES)
    with uow:
        moment = now or uow.now()
        rows = uow.session.execute(
            select(Meeting, Tenant, User.upn)
            .join(Tenant, Tenant.id == Meeting.tenant_id)
            .join(User, User.id == Meeting.organizer_id)
            .where(
                Meeting.conference_id_row_id.is_not(None),
                Meeting.last_ends_at.is_not(None),
                Meeting.last_ends_at <= moment,
            )
            .order_by(Meeting.id)
        ).all()
        released: list[int] = []
        for meeting, tenant, upn in rows:
            assert meeting.last_ends_at is not None
            if meeting.last_ends_at + timedelta(days=max(tenant.meeting_id_grace_days, 0)) > moment:
                continue
            digits = meeting.conference_id
            release_meeting_id(uow, meeting, tenant)
            audit(
                uow,
                actor,
                "meeting.id_expired",
                upn,
                tenant_id=tenant.id,
                before={"id": meeting.id, "conference_id": digits},
                detail=f"meeting {meeting.id} ended; its conference ID is quarantined",
            )
            released.append(meeting.id)
        uow.commit()
        return ExpiryResult(released=len(released), meetings=released)


def release_meeting_id(uow: UnitOfWork, meeting: Meeting, tenant: Tenant) -> None:
    """Quarantine the meeting's own conference ID (dynamic mode), if it still holds one: callers are refused."""
    if meeting.conference_id_row_id is None:
        return
    row = uow.session.get(ConferenceIdRow, meeting.conference_id_row_id)
    meeting.conference_id_row_id = None
    meeting.id_released_at = uow.now()
    if row is not None and row.state == "live" and row.kind == "meeting":
        conference_ids.release(uow, row, quarantine_days=tenant.id_quarantine_days)


def _get_meeting(
    uow: UnitOfWork, meeting_id: int, actor: Actor, permission: Permission
) -> tuple[Meeting, User, Tenant]:
    found = uow.session.execute(
        select(Meeting, User, Tenant)
        .join(User, User.id == Meeting.organizer_id)
        .join(Tenant, Tenant.id == Meeting.tenant_id)
        .where(Meeting.id == meeting_id)
    ).one_or_none()
    # a meeting of another tenant is reported as unknown: tenants never see each other
    if found is None or (actor.role is not Role.OPERATOR and found[0].tenant_id != actor.tenant_id):
        raise MeetingNotFound(meeting_id)
    meeting, user, tenant = found
    require(actor, permission, tenant)
    return meeting, user, tenant


NO_DIALIN = "This meeting no longer has dial-in by phone: the organizer cannot host it any more."


def dial_in(uow: UnitOfWork, tenant: Tenant, user: User, digits: str) -> ics.DialIn:
    """What the dial-in block of `user`'s meeting with ID `digits` says now.

    A builtin organizer's own default toll number, or else the bridge's default; a third-party
    organizer's provider, numbers, ID and passcode; a disabled organizer's meetings have no dial-in.
    """
    if not user.enabled:
        return ics.DialIn("", None, "", None, "", "", notice=NO_DIALIN)
    if user.provider == "third-party":
        frees = list(user.acp_toll_free_numbers or [])
        return ics.DialIn(
            conference_id=format_for_callers(user.acp_conference_id) if user.acp_conference_id else "",
            toll=numbers.international(user.acp_toll_number) if user.acp_toll_number else None,
            toll_label="",
            toll_free=numbers.international(frees[0]) if frees and user.toll_free_allowed else None,
            toll_free_label="",
            local_numbers_url=user.acp_url or "",
            provider=user.acp_provider_name or "third-party provider",
            passcode=user.acp_participant_passcode or "",
        )
    toll_id = own_or_bridge_toll(uow, user)
    wanted = [n for n in (toll_id, user.toll_free_number_id if user.toll_free_allowed else None) if n]
    found = {
        row.id: row
        for row in uow.session.scalars(select(ServiceNumber).where(ServiceNumber.id.in_(wanted)))
    } if wanted else {}
    toll = found.get(toll_id or 0)
    free = found.get(user.toll_free_number_id or 0) if user.toll_free_allowed else None
    return ics.DialIn(
        conference_id=format_for_callers(digits),
        toll=numbers.international(toll.e164) if toll else None,
        toll_label=(toll.city or toll.country or "") if toll else "",
        toll_free=numbers.international(free.e164) if free else None,
        toll_free_label=(free.city or free.country or "") if free else "",
        local_numbers_url=f"{uow.public_url.rstrip('/')}/dialin/{tenant.name}",
    )


def invitation(
    uow: UnitOfWork,
    tenant: Tenant,
    user: User,
    meeting: Meeting,
    *,
    method: str,
    body: str = "",
    dial: ics.DialIn | None = None,
) -> ics.Invitation:
    """The iCalendar invitation of `meeting` as it stands (its SEQUENCE, its conference ID).

    `dial` is the meeting's dial-in (`dial_in`), when the caller already has it.
    """
    zone = _zone_of(meeting)
    return ics.Invitation(
        method=method,
        uid=meeting.uid,
        sequence=meeting.sequence,
        stamp=uow.now(),
        start=meeting.starts_at.astimezone(zone),
        end=meeting.ends_at.astimezone(zone),
        subject=meeting.subject,
        description=ics.description(body, dial or dial_in(uow, tenant, user, meeting.conference_id)),
        organizer=ics.Person(user.email, user.display_name),
        attendees=[ics.Person(a) for a in meeting.attendees],
        rrule=meeting.rrule,
    )


def send_invitation(
    uow: UnitOfWork,
    tenant: Tenant,
    user: User,
    meeting: Meeting,
    *,
    method: str,
    body: str = "",
    dial: ics.DialIn | None = None,
) -> int:
    """Queue the invitation (or cancellation) to every attendee; returns how many were queued."""
    if not meeting.attendees:
        return 0
    invite = invitation(uow, tenant, user, meeting, method=method, body=body, dial=dial)
    calendar = ics.render(invite)
    zone = _zone_of(meeting)
    when = _describe_when(meeting, zone)
    cancelled = method == "CANCEL"
    subject = f"{'Cancelled: ' if cancelled else ''}{meeting.subject}"
    intro = (
        f"{user.display_name} has cancelled this meeting."
        if cancelled
        else f"{user.display_name} invites you to a meeting."
    )
    text = f"{intro}\n\n{meeting.subject}\n{when}\n\n{invite.description}\n"
    page = _html(intro, meeting.subject, when, invite.description)
    for to in meeting.attendees:
        queue_invitation(
            uow,
            tenant,
            kind="meeting_cancel" if cancelled else "meeting_request",
            organizer_upn=user.upn,
            to=to,
            subject=subject,
            body_text=text,
            body_html=page,
            ics=calendar,
        )
    return len(meeting.attendees)


def _describe_when(meeting: Meeting, zone: tzinfo) -> str:
    start = meeting.starts_at.astimezone(zone)
    end = meeting.ends_at.astimezone(zone)
    text = f"When: {start:%Y-%m-%d %H:%M} - {end:%H:%M} ({meeting.timezone})"
    if meeting.rrule:
        text += f", repeating: {meeting.rrule}"
    return text


def _html(intro: str, subject: str, when: str, description: str) -> str:
    # the subject and description are what people typed: escaped, never markup
    lines = "<br>\n".join(html.escape(line) for line in description.splitlines())
    return (
        "<!DOCTYPE html>\n<html><body>\n"
        f"<p>{html.escape(intro)}</p>\n<h2>{html.escape(subject)}</h2>\n<p>{html.escape(when)}</p>\n"
        f"<p>{lines}</p>\n</body></html>\n"
    )


def meeting_for_row(uow: UnitOfWork, conference_id_row_id: int) -> dict[str, Any] | None:
    """The scheduled meeting that a live conference_ids row belongs to (id, subject), for dial-in lookup."""
    found = uow.session.execute(
        select(Meeting.id, Meeting.subject).where(
            and_(Meeting.conference_id_row_id == conference_id_row_id, Meeting.status == "scheduled")
        )
    ).one_or_none()
    return None if found is None else {"id": found.id, "subject": found.subject}
