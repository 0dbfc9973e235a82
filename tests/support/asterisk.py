"""A test peer that plays Asterisk over a real TCP socket against a running FastAGI server.

`Call(port).run(entries)` sends the header block, then answers each command the way Asterisk does:
ANSWER, SET VARIABLE and STREAM FILE succeed; each GET DATA gets the next entry (what the caller
typed), HANGUP (the caller hangs up while prompted: a `HANGUP` line, then `200 result=-1`) or DROP
(the connection is closed mid-call). It stops when the server closes the connection.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

HANGUP = "<hangup>"
DROP = "<drop>"
_SET = re.compile(r'^SET VARIABLE (\S+) "(.*)"$')


@dataclass
class Transcript:
    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    sounds: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)  # the sound of each GET DATA
    hung_up_by_server: bool = False
    closed_by_server: bool = False

    @property
    def result(self) -> str | None:
        return self.variables.get("DIALCONF_RESULT")


class Call:
    def __init__(
        self, port: int, *, number: str = "+14255550100", caller: str = "+12065550111", timeout: float = 30.0
    ) -> None:
        self.port = port
        self.headers = {
            "agi_network": "yes",
            "agi_request": f"agi://127.0.0.1:{port}",
            "agi_channel": "PJSIP/trunk-00000001",
            "agi_language": "en",
            "agi_uniqueid": "1700000000.1",
            "agi_callerid": caller,
            "agi_calleridname": "unknown",
            "agi_dnid": number.lstrip("+"),
            "agi_context": "dialconf",
            "agi_extension": number.lstrip("+"),
            "agi_priority": "1",
            "agi_arg_1": number,
        }
        self.timeout = timeout

    def run(self, entries: list[str]) -> Transcript:
        typed = list(entries)
        transcript = Transcript()
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as sock:
            stream = sock.makefile("rwb", buffering=0)
            header = "".join(f"{k}: {v}\n" for k, v in self.headers.items()) + "\n"
            sock.sendall(header.encode())
            while True:
                raw = stream.readline()
                if not raw:
                    transcript.closed_by_server = True
                    return transcript
                line = raw.decode().rstrip("\n")
                transcript.commands.append(line)
                reply = self._reply(line, typed, transcript)
                if reply == DROP:
                    return transcript  # the socket closes as the with-block ends
                sock.sendall(reply.encode())

    def _reply(self, line: str, typed: list[str], transcript: Transcript) -> str:
        if line == "ANSWER":
            return "200 result=0\n"
        if (match := _SET.match(line)) is not None:
            transcript.variables[match.group(1)] = match.group(2)
            return "200 result=1\n"
        if line.startswith("STREAM FILE "):
            transcript.sounds.append(line.split()[2])
            return "200 result=0 endpos=8000\n"
        if line.startswith("GET DATA "):
            transcript.prompts.append(line.split()[2])
            entry = typed.pop(0) if typed else ""
            if entry == HANGUP:
                return "HANGUP\n200 result=-1\n"
            if entry == DROP:
                return DROP
            if entry.endswith("#"):  # '#' ends the entry and is not part of the result
                return f"200 result={entry[:-1]}\n"
            return f"200 result={entry} (timeout)\n"
        if line == "HANGUP":
            transcript.hung_up_by_server = True
            return "200 result=1\n"
        return "510 Invalid or unknown command\n"


def send_raw(port: int, data: bytes, *, timeout: float = 15.0) -> bytes:
    """Send `data` and return all the server says until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        return received
