"""The iCalendar side of meetings, pure: invitations, recurrence rules, the dial-in block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from dialconf.calendars import ics
from dialconf.mail.message import calendar_method, render_message

PARIS = ics.zone("Europe/Paris")
START = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
DIAL = ics.DialIn(
    conference_id="123 456 7#",
    toll="+1 425-555-0100",
    toll_label="Seattle",
    toll_free="+1 800-555-0199",
    toll_free_label="",
    local_numbers_url="https://dial.example.com/dialin/contoso",
)


def _invitation(method: str = "REQUEST", **changes: object) -> ics.Invitation:
    values: dict[str, object] = {
        "method": method,
        "uid": "0123abcd@contoso.com",
        "sequence": 0,
        "stamp": datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        "start": START,
        "end": START + timedelta(hours=1),
        "subject": "Weekly sync",
        "description": ics.description("Agenda: numbers", DIAL),
        "organizer": ics.Person("ada@contoso.com", "Ada Lovelace"),
        "attendees": [ics.Person("bob@example.com"), ics.Person("eve@example.com")],
        "rrule": "FREQ=WEEKLY;COUNT=3",
    }
    values.update(changes)
    return ics.Invitation(**values)  # type: ignore[arg-type]


def _event(text: str) -> icalendar.Event:
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_an_invitation_parses_and_carries_every_field_of_a_request() -> None:
    text = ics.render(_invitation())
    cal = icalendar.Calendar.from_ical(text)
    event = _event(text)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "0123abcd@contoso.com"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]) == "mailto:ada@contoso.com"
    assert event["ORGANIZER"].params["CN"] == "Ada Lovelace"
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:bob@example.com", "mailto:eve@example.com"]
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3"
    assert event.decoded("DTSTART") == START
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_description_ends_with_the_dial_in_block() -> None:
    description = str(_event(ics.render(_invitation()))["DESCRIPTION"])
    assert description.startswith("Agenda: numbers\n")
    block = description[description.index(ics.BLOCK_RULE) :]
    assert description.endswith(block)
    assert block.splitlines() == [
        ics.BLOCK_RULE,
        "Join by phone",
        "",
        "+1 425-555-0100  (Seattle)  (toll)",
        "+1 800-555-0199  (toll-free)",
        "Find a local number: https://dial.example.com/dialin/contoso",
        "",
        "Conference ID: 123 456 7#",
        ics.BLOCK_RULE,
    ]


def test_the_block_leaves_out_a_toll_free_number_the_organizer_may_not_offer() -> None:
    block = ics.dialin_block(ics.DialIn("123 456 7#", "+1 425-555-0100", "", None, "", "https://x/dialin/c"))
    assert "toll-free" not in block
    assert "Conference ID: 123 456 7#" in block


def test_a_cancellation_is_method_cancel_with_a_cancelled_event() -> None:
    text = ics.render(_invitation("CANCEL", sequence=1))
    assert str(icalendar.Calendar.from_ical(text)["METHOD"]) == "CANCEL"
    event = _event(text)
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 1)


def test_a_meeting_in_utc_needs_no_vtimezone() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    text = ics.render(_invitation(start=start, end=start + timedelta(hours=1)))
    assert "BEGIN:VTIMEZONE" not in text
    assert _event(text).decoded("DTSTART") == start


def test_a_bounded_recurrence_knows_its_last_start_and_an_unbounded_one_never_ends() -> None:
    assert ics.parse_recurrence("FREQ=WEEKLY;COUNT=3", START).last_start == START + timedelta(weeks=2)
    until = ics.parse_recurrence("RRULE:FREQ=DAILY;UNTIL=20261205T235959Z", START)
    assert (until.rrule, until.last_start) == ("FREQ=DAILY;UNTIL=20261205T235959Z", START + timedelta(days=4))
    assert ics.parse_recurrence("FREQ=WEEKLY;BYDAY=MO", START).last_start is None


@pytest.mark.parametrize(
    "rule",
    ["FREQ=SOMETIMES", "WEEKLY", "FREQ=WEEKLY;COUNT=x", "FREQ=WEEKLY;FOO=1", "", "FREQ=DAILY\nATTENDEE:x"],
)
def test_a_malformed_recurrence_is_refused(rule: str) -> None:
    with pytest.raises(ics.CalendarInputError, match="RRULE"):
        ics.parse_recurrence(rule, START)


def test_an_unknown_timezone_is_refused() -> None:
    for name in ("Mars/Olympus_Mons", "../etc/passwd", ""):
        with pytest.raises(ics.CalendarInputError, match="unknown timezone"):
            ics.zone(name)


def test_the_calendar_part_of_the_mail_names_the_method_of_its_object() -> None:
    cancel = ics.render(_invitation("CANCEL", sequence=1))
    assert calendar_method(cancel) == "CANCEL"
    assert calendar_method(ics.render(_invitation())) == "REQUEST"
    data = render_message(
        from_addr="noreply@contoso.com",
        from_name=None,
        to_addr="bob@example.com",
        subject="Cancelled: Weekly sync",
        message_id="<1@contoso.com>",
        date=datetime(2026, 11, 29, tzinfo=UTC),
        body_text="x",
        body_html="<p>x</p>",
        ics=cancel,
    )
    assert b'Content-Type: text/calendar; charset="utf-8"; method=CANCEL' in data
