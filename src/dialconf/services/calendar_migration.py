"""Meeting migration in a tenant's CalDAV calendar (docs/meetings.md, 'CalDAV calendars').

Part of a migration job (services/meeting_migrations.py), after the organizer's own meetings are
brought up to date. The calendar is the tenant's CalDAV URL, with `{upn}` replaced by the
organizer's sign-in name when the URL holds it (one calendar per user). Its events that have an
occurrence from now on (the server's time-range filter, recurrences included), whose ORGANIZER is
the organizer (their email or sign-in name) and whose DESCRIPTION carries a dialconf dial-in block
that differs from the one it should carry now are rewritten: that block and SEQUENCE change, every
other line keeps its bytes (calendars.event_text). Every other event is never written at all.

The block an event should carry: for an event with the UID of one of the organizer's scheduled
dialconf meetings, that meeting's block; for any other event, in static mode, the block of the
organizer's conference ID, and for a disabled or third-party organizer the block their meetings
carry (no dial-in; the provider's numbers). In dynamic mode an event of a builtin organizer that is
no dialconf meeting is left alone: its ID belonged to a meeting dialconf does not know.

Each write is conditional (`If-Match` on the ETag just read): when the event changed meanwhile, it
is read again and the edit made on the new text, a few times at most. Any CalDAV failure fails the
job (CalendarUnavailable, with a message that names no secret); the job's backoff tries it again
later, and events already rewritten are then left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from dialconf.calendars import caldav, event_text, ics
from dialconf.errors import CalendarUnavailable
from dialconf.services import caldav_settings, conference_ids
from dialconf.services.meetings import dial_in
from dialconf.store.models import Meeting, Tenant, User
from dialconf.store.uow import UnitOfWork

# reads and writes of one event before the job gives up on it for now (it is tried again with the job)
MAX_TRIES = 5

Target = Callable[[str], str | None]


def migrate_calendar(uow: UnitOfWork, tenant: Tenant, user: User) -> int:
    """Rewrite the stale dial-in blocks of `user`'s upcoming events in the tenant's calendar; returns how many."""
    if tenant.caldav_url is None:
        return 0
    url = caldav_settings.calendar_url(tenant.caldav_url, user.upn)
    if not tenant.caldav_url_by_operator and caldav_settings.is_internal(url):
        # looked up again: the name may have been pointed at a private address since an admin set it
        raise CalendarUnavailable(
            f"the CalDAV calendar of tenant '{tenant.name}': {caldav_settings.host_of(url)} now leads to "
            "this machine or a private address, which only the operator may connect; not contacted"
        )
    password = caldav_settings.password_of(uow, tenant)
    target = _target(uow, tenant, user)
    connect = uow.caldav or caldav.connect
    rewritten = 0
    try:
        with connect(url, tenant.caldav_username, password) as client:
            try:
                found = client.events_from(uow.now())
            except caldav.CalendarNotFound:
                if caldav_settings.UPN in tenant.caldav_url:
                    return 0  # one calendar per user, and this one has none
                raise
            for item in found:
                block = target(item.text)
                if block is not None and event_text.replace_dialin_block(item.text, block) is not None:
                    rewritten += _rewrite(client, item.href, target)
    except caldav.CalDavError as exc:
        raise CalendarUnavailable(f"the CalDAV calendar of tenant '{tenant.name}': {exc}") from None
    return rewritten


def _target(uow: UnitOfWork, tenant: Tenant, user: User) -> Target:
    """Which block an event's text should carry: None for an event that is not to be touched."""
    meetings = {
        uid: block if status == "scheduled" and block else None
        for uid, status, block in uow.session.execute(
            select(Meeting.uid, Meeting.status, Meeting.dialin_block).where(Meeting.organizer_id == user.id)
        )
    }
    fallback: str | None = None
    if not (user.enabled and user.provider == "builtin"):
        # disabled (no dial-in any more) or third-party (the provider's numbers): the same for every meeting
        fallback = ics.dialin_block(dial_in(uow, tenant, user, ""))
    elif tenant.conference_id_mode == "static":
        static = conference_ids.live_static_row(uow, user.id)
        fallback = ics.dialin_block(dial_in(uow, tenant, user, static.digits)) if static is not None else None
    addresses = {user.email.strip().lower(), user.upn.strip().lower()}

    def block_for(text: str) -> str | None:
        facts = event_text.event_facts(text)
        if facts is None or not facts.organizers & addresses:
            return None
        return meetings.get(facts.uid, fallback)  # a cancelled meeting maps to None: left alone

    return block_for


def _rewrite(client: caldav.CalDavClient, href: str, target: Target) -> int:
    """Rewrite one event from its exact text, conditionally; returns 1 if written, 0 if it needs nothing now."""
    for _ in range(MAX_TRIES):
        try:
            current = client.get(href)
        except caldav.CalendarNotFound:
            return 0  # deleted meanwhile
        block = target(current.text)
        text = event_text.replace_dialin_block(current.text, block) if block is not None else None
        if text is None:
            return 0  # changed meanwhile into something that needs no rewrite
        if current.etag is None:
            raise caldav.CalDavError(f"the server gave no ETag for {href}, so it cannot be rewritten safely")
        try:
            client.put(href, text, etag=current.etag)
        except caldav.EventChanged:
            continue
        return 1
    raise caldav.CalDavError(
        f"the event {href} changed {MAX_TRIES} times while it was being rewritten; the job will try again"
    )
