"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), which records what arrives and can be told to refuse."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from dialconf.mail.catcher import BoundController

WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: Any
    tls: bool = False
    authenticated: bool = False

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())  # type: ignore[attr-defined]

    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())  # type: ignore[attr-defined]


class Recorder:
    """The aiosmtpd handler: keeps every accepted message; `data_replies` scripts the answers to DATA."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.data_replies: deque[str | None] = deque()  # None: accept
        self.refuse_rcpt: dict[str, str] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        self.refused = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            reply = self.data_replies.popleft() if self.data_replies else None
            if reply is not None:
                self.refused += 1
                return reply
            assert isinstance(envelope.original_content, bytes)
            self.received.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=envelope.original_content,
                    peer=session.peer,
                    tls=server.transport is not None
                    and server.transport.get_extra_info("ssl_object") is not None,
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 OK queued"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def message_id_counts(self) -> Counter[str]:
        return Counter(r.message_id for r in self.messages())

    def for_recipient(self, addr: str) -> list[Received]:
        return [r for r in self.messages() if addr in r.rcpt_tos]


class SmtpServer:
    """Port reserved at once (connections are refused); `start()` begins serving on that same port."""

    def __init__(self, **smtp_kwargs: Any) -> None:
        self.handler = Recorder()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.host, self.port = self._sock.getsockname()[:2]
        self._controller = BoundController(self.handler, self._sock, **smtp_kwargs)
        self.running = False

    def start(self) -> SmtpServer:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False
        else:
            self._sock.close()

    def env(self) -> dict[str, str]:
        return {
            "DIALCONF_SMTP_HOST": self.host,
            "DIALCONF_SMTP_PORT": str(self.port),
            "DIALCONF_SMTP_SECURITY": "none",
            "DIALCONF_SMTP_TIMEOUT": "10",
        }


@contextmanager
def smtp_server(*, start: bool = True, **smtp_kwargs: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(**smtp_kwargs)
    if start:
        server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll `condition` until it holds; fail the test (never hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def dialconf_command() -> str:
    """The `dialconf` console script installed next to this Python."""
    path = Path(sys.executable).parent / "dialconf"
    assert path.exists(), f"console script not found at {path}"
    return str(path)


class WorkerProcess:
    """`dialconf worker` in its own process, with its output collected by a reader thread."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
        full_env.update(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [dialconf_command(), *args],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = WAIT_SECONDS) -> None:
        wait_for(
            lambda: any(text in line for line in self.lines) or self.proc.poll() is not None,
            f"'{text}' from {self.proc.args}",
            timeout,
        )
        assert any(text in line for line in self.lines), f"process ended without '{text}':\n{self.output}"

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = WAIT_SECONDS) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self._reader.join(timeout=5)
        return code

    def stop(self) -> None:
        """Make sure the process is gone (tests stop it themselves; this is the safety net)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
