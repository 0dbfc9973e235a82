"""iCalendar invitations of dialconf meetings, built with the `icalendar` library; pure, no I/O.

`parse_recurrence` checks an RRULE and finds when its last occurrence starts (None: it never
ends); `dialin_block` writes the block that ends every invitation's description (DESIGN §4);
`render` writes the whole VCALENDAR of a REQUEST or a CANCEL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vCalAddress, vRecur, vText

PRODID = "-//dialconf//dialconf meetings//EN"
# the dial-in block sits between two of these rules, so that a migration can find and rewrite it
BLOCK_RULE = "_" * 64
BLOCK_TITLE = "Join by phone"
# a recurrence with more occurrences than this is refused: its end would take too long to find
MAX_OCCURRENCES = 20_000
# years of timezone transitions in an invitation's VTIMEZONE, from a year before its first start
TIMEZONE_YEARS = 6
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Z"})


class CalendarInputError(ValueError):
    """A timezone or recurrence rule that cannot be used; the message says why."""


def zone(name: str) -> tzinfo:
    """The IANA timezone called `name` (UTC for 'UTC'), or raise CalendarInputError."""
    if name in _UTC_NAMES:
        return UTC
    if not name or "\x00" in name or name.startswith("/") or ".." in name:
        raise CalendarInputError(f"unknown timezone '{name}'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarInputError(f"unknown timezone '{name}' (use an IANA name such as Europe/Paris)") from None


@dataclass(frozen=True)
class Recurrence:
    rrule: str  # canonical text, without the "RRULE:" prefix
    last_start: datetime | None  # start of the last occurrence; None when the rule never ends


def parse_recurrence(text: str, start: datetime) -> Recurrence:
    """Check an RRULE against the meeting's first start (aware, in its timezone), or raise CalendarInputError."""
    from dateutil.rrule import rrule as RRule
    from dateutil.rrule import rrulestr

    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[len("RRULE:") :]
    if not raw or any(c in raw for c in "\r\n:") or len(raw) > 400:
        raise CalendarInputError(f"malformed RRULE '{text}': give one rule such as FREQ=WEEKLY;COUNT=10")
    try:
        canonical = vRecur.from_ical(raw).to_ical().decode("ascii")
        rule = rrulestr(raw, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CalendarInputError(f"malformed RRULE '{text}': {exc}") from None
    if not isinstance(rule, RRule):
        raise CalendarInputError(f"malformed RRULE '{text}': give one rule, not a set")
    if "COUNT=" not in raw.upper() and "UNTIL=" not in raw.upper():
        return Recurrence(rrule=canonical, last_start=None)
    last: datetime | None = None
    try:
        for count, occurrence in enumerate(rule, start=1):
            if count > MAX_OCCURRENCES:
                raise CalendarInputError(
                    f"RRULE '{text}' has more than {MAX_OCCURRENCES} occurrences; schedule a shorter series"
                )
            last = occurrence
    except (ValueError, TypeError) as exc:
        raise CalendarInputError(f"malformed RRULE '{text}': {exc}") from None
    if last is None:
        raise CalendarInputError(f"RRULE '{text}' has no occurrence at or after the meeting's start")
    return Recurrence(rrule=canonical, last_start=last)


@dataclass(frozen=True)
class DialIn:
    """What callers need to join: numbers formatted for reading, the ID in its spoken form ('123 456 7#').

    A third-party organizer's block names the `provider` and its participant `passcode`; a `notice`
    (the organizer can no longer host dial-in) replaces the numbers altogether. An empty
    `conference_id` or `local_numbers_url` leaves its line out.
    """

    conference_id: str
    toll: str | None
    toll_label: str
    toll_free: str | None
    toll_free_label: str
    local_numbers_url: str
    provider: str = ""
    passcode: str = ""
    notice: str = ""


def dialin_block(dial: DialIn) -> str:
    """The dial-in block of DESIGN §4, between two rules: numbers, the local-numbers link, the conference ID."""
    lines = [BLOCK_RULE, f"{BLOCK_TITLE} ({dial.provider})" if dial.provider else BLOCK_TITLE, ""]
    if dial.notice:
        return "\n".join([*lines, dial.notice, BLOCK_RULE])
    if dial.toll:
        lines.append(f"{dial.toll}{f'  ({dial.toll_label})' if dial.toll_label else ''}  (toll)")
    if dial.toll_free:
        lines.append(f"{dial.toll_free}{f'  ({dial.toll_free_label})' if dial.toll_free_label else ''}  (toll-free)")
    if dial.local_numbers_url:
        lines.append(f"Find a local number: {dial.local_numbers_url}")
    lines.append("")
    if dial.conference_id:
        lines.append(f"Conference ID: {dial.conference_id}")
    if dial.passcode:
        lines.append(f"Participant passcode: {dial.passcode}")
    lines.append(BLOCK_RULE)
    return "\n".join(lines)


def description(body: str, dial: DialIn) -> str:
    """An invitation's description: what the organizer wrote (if anything), ending with the dial-in block."""
    body = body.strip()
    return f"{body}\n\n{dialin_block(dial)}" if body else dialin_block(dial)


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Invitation:
    """One VEVENT and how it is sent: method REQUEST (new or updated) or CANCEL."""

    method: str
    uid: str
    sequence: int
    stamp: datetime  # aware
    start: datetime  # aware, in the meeting's timezone
    end: datetime
    subject: str
    description: str
    organizer: Person
    attendees: Sequence[Person]
    rrule: str | None = None


def render(invitation: Invitation) -> str:
    """The VCALENDAR text (CRLF line ends) of `invitation`, with a VTIMEZONE for a zone other than UTC."""
    if invitation.method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iCalendar method {invitation.method}")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", invitation.method)
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", invitation.stamp.astimezone(UTC))
    event.add("dtstart", invitation.start)
    event.add("dtend", invitation.end)
    event.add("summary", invitation.subject)
    event.add("description", invitation.description)
    event.add("status", "CANCELLED" if invitation.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(invitation.organizer))
    for person in invitation.attendees:
        address = _address(person)
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
        event.add("attendee", address, encode=False)
    if invitation.rrule:
        event.add("rrule", vRecur.from_ical(invitation.rrule))
    cal.add_component(event)
    tzid = getattr(invitation.start.tzinfo, "key", None)
    if invitation.start.tzinfo is not UTC and tzid:
        cal.subcomponents.insert(0, _vtimezone(tzid, invitation.start.year))
    elif invitation.start.tzinfo is not UTC:
        first = invitation.start.date() - timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=first + timedelta(days=TIMEZONE_YEARS * 366))
    data: bytes = cal.to_ical()
    return data.decode("utf-8")


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, year: int) -> Timezone:
    """The VTIMEZONE of `tzid` from the year before `year` on, for TIMEZONE_YEARS years.

    Only the zone's transitions around the meeting: a VTIMEZONE from 1970 would be most of the file.
    Built once per zone and year (a migration renders thousands of invitations in a few zones);
    `render` only reads it.
    """
    first = date(year - 1, 1, 1)
    return Timezone.from_tzid(tzid, first_date=first, last_date=first + timedelta(days=TIMEZONE_YEARS * 366))


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    return address
