"""The FastAGI wire protocol, as pure functions: header lines, commands and replies (no I/O here).

A FastAGI session starts with Asterisk sending `agi_name: value` lines ended by an empty line; then
the script sends one command per line (`GET DATA conf-getconfno 10000 20`) and reads one reply per
command: `200 result=1`, `200 result=1234567 (timeout)`, `510 Invalid or unknown command`,
`511 Command Not Permitted on a dead channel`, or a `520-` usage block ended by `520 End of ...`.
When the caller hangs up, Asterisk may send a line `HANGUP` at any moment between replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HANGUP_LINE = "HANGUP"
MAX_HEADER_LINES = 200
_HEADER = re.compile(r"^(agi_[a-z0-9_]+):\s?(.*)$")
_REPLY = re.compile(r"^(\d{3})([ -])(.*)$")
_RESULT = re.compile(r"^result=(\S*)\s*(.*)$")
# Asterisk's "no value" in the header block
_UNKNOWN = {"", "unknown", "anonymous", "<unknown>"}


class ProtocolError(Exception):
    """The peer does not speak FastAGI: its connection is closed."""


class Hangup(Exception):
    """The caller hung up, or the connection went away."""


class CommandFailed(Exception):
    """Asterisk refused a command (510 unknown command, 520 bad syntax)."""


def parse_header_line(line: str) -> tuple[str, str]:
    """`agi_dnid: 14255550100` -> ("agi_dnid", "14255550100"); anything else is a ProtocolError."""
    match = _HEADER.match(line)
    if match is None:
        raise ProtocolError("not an AGI header line")
    return match.group(1), match.group(2).strip()


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply line: its code, the `result=` value and what follows it (`(timeout)`, `endpos=...`)."""

    code: int
    result: str = ""
    data: str = ""

    @property
    def timed_out(self) -> bool:
        return self.data == "(timeout)"


def parse_reply(line: str) -> tuple[Reply, bool]:
    """Parse a reply line; the flag says whether more lines of the same reply follow (`520-...`)."""
    match = _REPLY.match(line)
    if match is None:
        raise ProtocolError("not an AGI reply line")
    code, more, rest = int(match.group(1)), match.group(2) == "-", match.group(3)
    if code == 200:
        result = _RESULT.match(rest)
        if result is None:
            raise ProtocolError("a 200 reply without result=")
        return Reply(code, result.group(1), result.group(2).strip()), False
    return Reply(code, data=rest), more


def quote(argument: str) -> str:
    """An argument as one AGI word: in double quotes, with quotes and backslashes escaped."""
    cleaned = argument.replace("\r", " ").replace("\n", " ")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(verb: str, *arguments: str) -> str:
    """A command line without its newline: `SET VARIABLE DIALCONF_ROOM "contoso-1234567"`."""
    return " ".join([verb, *arguments])


def known(value: str | None) -> str | None:
    """A header value, or None when Asterisk says it has none (`unknown`, empty)."""
    if value is None or value.strip().lower() in _UNKNOWN:
        return None
    return value.strip()


def dialed_number(headers: dict[str, str]) -> str | None:
    """The number the caller dialed: the dialplan's first argument, else the DNID, else the extension."""
    for name in ("agi_arg_1", "agi_dnid", "agi_extension"):
        value = known(headers.get(name))
        if value is not None and value != "s":  # `s`: the start extension, not a number
            return value
    return None
