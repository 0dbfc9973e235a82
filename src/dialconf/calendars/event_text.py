"""Rewrite the dial-in block inside an iCalendar object's text, leaving every other line as it was; pure.

An event in someone's calendar is theirs: a calendar program may have added properties, parameters,
alarms and folding of its own. So the text is edited line by line instead of being parsed and
written again: only the DESCRIPTION and SEQUENCE lines of a VEVENT whose description carries a
dialconf block change; every other line keeps its bytes, its folding and its line ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialconf.calendars.ics import BLOCK_RULE, BLOCK_TITLE

# the block as dialin_block writes it, its title maybe naming a provider ("Join by phone (Acme)");
# a calendar may have turned its line ends into CRLF
BLOCK = re.compile(
    re.escape(BLOCK_RULE)
    + r"\r?\n"
    + re.escape(BLOCK_TITLE)
    + r"(?: \([^\r\n]*\))?\r?\n.*?\r?\n"
    + re.escape(BLOCK_RULE),
    re.S,
)
FOLD_OCTETS = 75


@dataclass
class _Line:
    """One content line: its physical lines (each with its line end) and the unfolded text."""

    physical: list[str]

    @property
    def logical(self) -> str:
        parts = [part.rstrip("\r\n") for part in self.physical]
        return parts[0] + "".join(part[1:] for part in parts[1:])

    @property
    def name(self) -> str:
        head = re.split(r"[;:]", self.logical, maxsplit=1)[0]
        return head.strip().upper()


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    # only LF and CRLF end a line (str.splitlines would also split at characters inside a value)
    for physical in filter(None, re.split(r"(?<=\n)", text)):
        if physical[:1] in (" ", "\t") and lines:
            lines[-1].physical.append(physical)
        else:
            lines.append(_Line([physical]))
    return lines


def _split_value(logical: str) -> tuple[str, str]:
    """(name and parameters, value): the value starts after the first colon outside a quoted parameter."""
    quoted = False
    for i, char in enumerate(logical):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return logical[:i], logical[i + 1 :]
    return logical, ""


def unescape(value: str) -> str:
    """An RFC 5545 TEXT value as the text it stands for."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def escape(text: str) -> str:
    """Text as an RFC 5545 TEXT value."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n")


def fold(logical: str, newline: str) -> str:
    """A content line folded after at most 75 octets per physical line, never inside a character."""
    parts: list[str] = []
    current, size, limit = "", 0, FOLD_OCTETS
    for char in logical:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, FOLD_OCTETS - 1  # a continuation line starts with a space
        current += char
        size += width
    parts.append(current)
    return newline.join(parts[:1] + [" " + part for part in parts[1:]]) + newline


def _newline_of(line: _Line, default: str) -> str:
    last = line.physical[-1]
    return "\r\n" if last.endswith("\r\n") else "\n" if last.endswith("\n") else default


def replace_dialin_block(text: str, block: str) -> str | None:
    """`text` with the dial-in block of each VEVENT's DESCRIPTION replaced by `block` and its SEQUENCE raised.

    None when nothing would change: no VEVENT description carries a block, or each carries `block`
    already. Lines of other components (a VALARM's DESCRIPTION, a VTIMEZONE) are never touched.
    """
    default = "\r\n" if "\r\n" in text else "\n"
    out: list[str] = []
    event: list[_Line] | None = None
    depth = 0  # nesting inside the current VEVENT (an alarm in it is 1 deeper)
    changed = False
    for line in _lines(text):
        name = line.name
        component = _split_value(line.logical)[1].strip().upper() if name in ("BEGIN", "END") else ""
        if event is None:
            if name == "BEGIN" and component == "VEVENT":
                event, depth = [line], 0
            else:
                out.append("".join(line.physical))
            continue
        event.append(line)
        if name == "BEGIN":
            depth += 1
        elif name == "END" and depth > 0:
            depth -= 1
        elif name == "END" and component == "VEVENT":
            edited = _edit_event(event, block, default)
            changed = changed or edited is not None
            out.append(edited if edited is not None else "".join("".join(x.physical) for x in event))
            event = None
    if event is not None:  # an unterminated VEVENT: not ours to mend
        return None
    return "".join(out) if changed else None


def _edit_event(lines: list[_Line], block: str, default: str) -> str | None:
    """One VEVENT (BEGIN to END) with its own DESCRIPTION's block replaced and SEQUENCE raised; None: no change."""
    texts = ["".join(line.physical) for line in lines]
    depth = 0
    sequence: int | None = None
    changed = False
    for i, line in enumerate(lines[1:-1], start=1):
        name = line.name
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth -= 1
        elif depth == 0 and name == "DESCRIPTION":
            head, value = _split_value(line.logical)
            description = unescape(value)
            found = BLOCK.search(description)
            if found and found.group(0).replace("\r\n", "\n") != block:
                rewritten = description[: found.start()] + block + description[found.end() :]
                texts[i] = fold(f"{head}:{escape(rewritten)}", _newline_of(line, default))
                changed = True
        elif depth == 0 and name == "SEQUENCE":
            sequence = i
    if not changed:
        return None
    if sequence is None:
        texts.insert(len(texts) - 1, f"SEQUENCE:1{_newline_of(lines[-1], default)}")
    else:
        line = lines[sequence]
        head, value = _split_value(line.logical)
        number = int(value.strip()) + 1 if value.strip().isdigit() else 1
        texts[sequence] = fold(f"{head}:{number}", _newline_of(line, default))
    return "".join(texts)


@dataclass(frozen=True)
class EventFacts:
    """What decides whose event it is: its UID and the addresses of its ORGANIZER (lower case, no mailto:)."""

    uid: str
    organizers: frozenset[str]


def event_facts(text: str) -> EventFacts | None:
    """The UID and organizers of the VEVENTs in `text` (parsed with icalendar); None if it holds no event."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError):
        return None
    events = calendar.walk("VEVENT")
    if not events:
        return None
    organizers = frozenset(
        str(event["ORGANIZER"]).strip().lower().removeprefix("mailto:")
        for event in events
        if event.get("ORGANIZER")
    )
    return EventFacts(uid=str(events[0].get("UID", "")), organizers=organizers)
