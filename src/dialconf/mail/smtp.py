"""Hand messages to an SMTP server with smtplib: one connection reused for as long as there is mail.

Every failure is classified, so that the delivery service knows what to do with the message:

    SendError                  base; .reply is the server's reply (or the socket error) as one line
     ├── ServerUnavailable     could not connect, greet, secure the channel or log in: the server's
     │                         problem, not this message's; the message waits without losing a try
     ├── TemporaryFailure      a 4xx reply, or the connection dropped or timed out mid-transaction:
     │                         try this message again later
     └── PermanentFailure      a 5xx reply: sending the same message again will not help
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Sequence
from typing import Protocol

from dialconf.config import SmtpSettings

# a connection idle for longer than this is checked with NOOP before it carries a message
_IDLE_CHECK_SECONDS = 10.0


class SendError(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class ServerUnavailable(SendError):
    pass


class TemporaryFailure(SendError):
    pass


class PermanentFailure(SendError):
    pass


class MailTransport(Protocol):
    """Something that hands one message to a mail server (the real one is `SmtpTransport`)."""

    @property
    def description(self) -> str: ...

    def send(self, envelope_from: str, recipients: Sequence[str], data: bytes) -> None:
        """Deliver `data` (CRLF line ends) or raise a SendError."""
        ...

    def close(self) -> None:
        """Say goodbye to the server, if connected; the next send connects again."""
        ...


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}".strip()


def _classify(code: int, message: bytes | str, stage: str) -> SendError:
    reply = f"{_reply_text(code, message)} (after {stage})"
    if 500 <= code < 600:
        return PermanentFailure(reply)
    return TemporaryFailure(reply)


def _is_ascii(text: str) -> bool:
    return text.isascii()


class SmtpTransport:
    """smtplib with `none`, `starttls` or `tls` security and optional login; reuses its connection."""

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.host:
            raise ValueError("no SMTP host configured")
        self._settings = settings
        self._host: str = settings.host
        self._ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0
        self.connections_opened = 0

    @property
    def description(self) -> str:
        s = self._settings
        login = f", login {s.username}" if s.username else ""
        return f"{self._host}:{s.port} (security {s.security}{login})"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(self._host, s.port, timeout=s.timeout, context=self._context())
            else:
                conn = smtplib.SMTP(self._host, s.port, timeout=s.timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise ServerUnavailable(
                        f"{self._host}:{s.port} does not offer STARTTLS "
                        "(DIALCONF_SMTP_SECURITY=starttls needs it)"
                    )
                code, message = conn.starttls(context=self._context())
                if code != 220:
                    raise ServerUnavailable(f"STARTTLS refused: {_reply_text(code, message)}")
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except ServerUnavailable:
            self._abandon(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(conn)
            raise ServerUnavailable(
                f"login as {s.username} refused: {_reply_text(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self._abandon(conn)
            raise ServerUnavailable(
                f"{self._host}:{s.port} answered {_reply_text(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._abandon(conn)
            raise ServerUnavailable(f"cannot reach {self._host}:{s.port}: {_describe(exc)}") from exc
        self.connections_opened += 1
        self._conn = conn
        self._last_used = time.monotonic()
        return conn

    @staticmethod
    def _abandon(conn: smtplib.SMTP | None) -> None:
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def _drop(self) -> None:
        self._abandon(self._conn)
        self._conn = None

    def _usable_connection(self) -> tuple[smtplib.SMTP, bool]:
        """The open connection (checked with NOOP when it sat idle) or a new one; True if reused."""
        conn = self._conn
        if conn is not None and time.monotonic() - self._last_used > _IDLE_CHECK_SECONDS:
            try:
                code, _ = conn.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code != 250:
                self._drop()
                conn = None
        if conn is not None:
            return conn, True
        return self._connect(), False

    def send(self, envelope_from: str, recipients: Sequence[str], data: bytes) -> None:
        conn, reused = self._usable_connection()
        options: list[str] = []
        if not (_is_ascii(envelope_from) and all(_is_ascii(r) for r in recipients)):
            if not conn.has_extn("smtputf8"):
                raise PermanentFailure(
                    "an address is not ASCII and the SMTP server does not support SMTPUTF8"
                )
            options.append("SMTPUTF8")
        if conn.does_esmtp and conn.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        try:
            code, message = conn.mail(envelope_from, options)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if not reused:
                raise TemporaryFailure(f"connection lost before MAIL FROM: {_describe(exc)}") from exc
            # the server closed a connection we kept open; nothing was sent yet, so try a fresh one
            conn = self._connect()
            try:
                code, message = conn.mail(envelope_from, options)
            except (smtplib.SMTPServerDisconnected, OSError) as again:
                self._drop()
                raise TemporaryFailure(f"connection lost at MAIL FROM: {_describe(again)}") from again
        self._last_used = time.monotonic()
        try:
            if code != 250:
                raise self._failed(code, message, "MAIL FROM")
            for rcpt in recipients:
                code, message = conn.rcpt(rcpt)
                if code not in (250, 251):
                    raise self._failed(code, message, f"RCPT TO <{rcpt}>")
            try:
                code, message = conn.data(data)
            except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
                raise self._failed(exc.smtp_code, exc.smtp_error, "DATA") from exc
            if code != 250:
                # the transaction is over either way; no RSET needed
                if code == 421:
                    self._drop()
                raise _classify(code, message, "end of DATA")
        except SendError:
            raise
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _classify(exc.smtp_code, exc.smtp_error, "the transaction") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # dropped or timed out mid-transaction: the message may or may not have arrived
            self._drop()
            raise TemporaryFailure(f"connection lost during the transaction: {_describe(exc)}") from exc
        self._last_used = time.monotonic()

    def _failed(self, code: int, message: bytes | str, stage: str) -> SendError:
        """Classify a refusal and leave the connection ready for the next message."""
        error = _classify(code, message, stage)
        if code == 421:
            self._drop()
            return error
        assert self._conn is not None
        try:
            rset_code, _ = self._conn.rset()
            if rset_code != 250:
                self._drop()
        except (smtplib.SMTPException, OSError):
            self._drop()
        return error

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            self._abandon(conn)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
