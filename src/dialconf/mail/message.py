"""Render the MIME message of one outbox row: text and HTML alternatives, and an optional .ics invitation.

The message is written directly as bytes rather than through `email.message.EmailMessage`, which
takes milliseconds per message and would make rendering, not SMTP, the bottleneck of delivery.
The parts are quoted-printable (text) and base64 (.ics); the boundaries start with `=_`, which
neither encoding can produce, and are derived from the Message-ID, so a resend is byte-identical.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr

CRLF = b"\r\n"
_HEADER_ROOM = 78


@dataclass(frozen=True)
class Envelope:
    """What the SMTP transaction needs: the envelope sender, the recipients and the message bytes."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes


def _header_text(name: str, value: str) -> str:
    """An unstructured header value: as is when short ASCII, else RFC 2047 encoded and folded."""
    if value.isascii() and value.isprintable() and len(name) + 2 + len(value) <= _HEADER_ROOM:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(" ".join(value.split()), charset, header_name=name).encode(linesep="\r\n")


def _address(name: str | None, addr: str) -> str:
    if not name:
        return addr
    return formataddr((" ".join(name.split()), addr), charset="utf-8")


def _qp(text: str) -> bytes:
    # encode with LF line ends (b2a_qp then also breaks long lines with "=\n"), then make every end CRLF
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", CRLF)
    return encoded if encoded.endswith(CRLF) else encoded + CRLF


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def _part(content_type: str, encoding: str, body: bytes, extra: str = "") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n{extra}\r\n"
    return head.encode("ascii") + body


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    # the line break before a delimiter belongs to the delimiter, so each part gets one of its own
    sep = f"--{boundary}\r\n".encode("ascii")
    return b"".join(sep + p + CRLF for p in parts) + f"--{boundary}--\r\n".encode("ascii")


def render_message(
    *,
    from_addr: str,
    from_name: str | None,
    to_addr: str,
    subject: str,
    message_id: str,
    date: datetime,
    body_text: str,
    body_html: str,
    ics: str | None = None,
) -> bytes:
    """The message as the recipient sees it, CRLF line ends; Message-ID and Date come from the outbox row."""
    tag = hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:20]
    alternative = _multipart(
        f"=_dialconf_alt_{tag}",
        [
            _part('text/plain; charset="utf-8"', "quoted-printable", _qp(body_text)),
            _part('text/html; charset="utf-8"', "quoted-printable", _qp(body_html)),
        ],
    )
    alt_type = f'multipart/alternative;\r\n boundary="=_dialconf_alt_{tag}"'
    if ics:
        invite = _part(
            f'text/calendar; charset="utf-8"; method={calendar_method(ics)}',
            "base64",
            _b64(ics.encode("utf-8")),
            'Content-Disposition: attachment; filename="invite.ics"\r\n',
        )
        body = _multipart(f"=_dialconf_mix_{tag}", [_part_of(alt_type, alternative), invite])
        content_type = f'multipart/mixed;\r\n boundary="=_dialconf_mix_{tag}"'
    else:
        body = alternative
        content_type = alt_type
    headers = [
        ("From", _address(from_name, from_addr)),
        ("To", to_addr),
        ("Subject", _header_text("Subject", subject)),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        # RFC 3834: machine-generated; vacation responders must not answer it
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    ]
    head = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("utf-8")
    return head + CRLF + body


def calendar_method(ics: str) -> str:
    """The METHOD of an iCalendar object (REQUEST, CANCEL, ...): the calendar part's Content-Type names it too."""
    for line in ics.splitlines():
        name, _, value = line.partition(":")
        if name.strip().upper() == "METHOD":
            value = value.strip().upper()
            if value.isalpha() and value.isascii():
                return value
            break
        if line.startswith("BEGIN:V") and line.strip() != "BEGIN:VCALENDAR":
            break  # METHOD belongs before the first component
    return "REQUEST"


def _part_of(content_type: str, body: bytes) -> bytes:
    return f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body


def envelope_for(data: bytes, *, envelope_from: str, to_addr: str) -> Envelope:
    return Envelope(envelope_from=envelope_from, recipients=(to_addr,), data=data)
