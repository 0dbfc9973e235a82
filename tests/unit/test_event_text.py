"""Rewriting the dial-in block in an event's text changes that block and SEQUENCE, and no other byte."""

from __future__ import annotations

import icalendar

from dialconf.calendars import event_text, ics


def _block(conference_id: str) -> str:
    return ics.dialin_block(
        ics.DialIn(conference_id, "+1 425-555-0100", "Seattle", None, "", "https://dial.example/dialin/contoso")
    )


OLD, NEW = _block("111 222 3#"), _block("999 888 7#")


def _event(description: str, *, newline: str = "\r\n", sequence: str | None = "SEQUENCE:2") -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "UID:m-1@example.com",
        *([sequence] if sequence else []),
        "SUMMARY:A very long summary that a calendar program folded over two physical lines of",
        "  text",
        "X-ODD;X-P=\"a:b;c\":value: with colons",
        f"DESCRIPTION;LANGUAGE=en:{event_text.escape(description)}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{event_text.escape(description)}",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return newline.join(lines) + newline


def _vevent(text: str) -> icalendar.Event:
    event: icalendar.Event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    return event


def test_the_old_block_is_replaced_and_sequence_raised_and_every_other_line_kept() -> None:
    text = _event("Agenda, items; more\n\n" + OLD)
    rewritten = event_text.replace_dialin_block(text, NEW)
    assert rewritten is not None
    event = _vevent(rewritten)
    assert str(event["DESCRIPTION"]) == "Agenda, items; more\n\n" + NEW
    assert int(event["SEQUENCE"]) == 3
    assert str(event.walk("VALARM")[0]["DESCRIPTION"]).endswith(OLD)  # the alarm's own text is not the invitation
    kept = [line for line in text.split("\r\n") if not line.startswith(("DESCRIPTION;", "SEQUENCE:"))]
    assert [line for line in rewritten.split("\r\n") if line in kept] == kept
    assert all(len(line.encode()) <= 75 for line in rewritten.split("\r\n") if "LANGUAGE=en" in line or line[:1] == " ")


def test_an_event_without_sequence_gets_sequence_1() -> None:
    rewritten = event_text.replace_dialin_block(_event(OLD, sequence=None), NEW)
    assert rewritten is not None and int(_vevent(rewritten)["SEQUENCE"]) == 1


def test_lf_line_ends_stay_lf() -> None:
    rewritten = event_text.replace_dialin_block(_event(OLD, newline="\n"), NEW)
    assert rewritten is not None and "\r" not in rewritten


def test_nothing_to_do_without_a_block_or_with_the_current_one() -> None:
    assert event_text.replace_dialin_block(_event("Lunch; no phone"), NEW) is None
    assert event_text.replace_dialin_block(_event("Agenda\n\n" + NEW), NEW) is None


def test_the_organizer_and_uid_are_read_from_the_event() -> None:
    text = _event(OLD).replace("UID:m-1@example.com", "UID:m-1@example.com\r\nORGANIZER;CN=Ada:MAILTO:Ada@Contoso.com")
    facts = event_text.event_facts(text)
    assert facts == event_text.EventFacts(uid="m-1@example.com", organizers=frozenset({"ada@contoso.com"}))
    assert event_text.event_facts("not a calendar") is None
