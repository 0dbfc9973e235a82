"""The mail catcher of `dialconf up`: a real SMTP server on 127.0.0.1 that accepts every message and sends none on.

Delivery to it is ordinary SMTP, so the outbox rows become `sent` and stay readable with
`dialconf mail list` / `mail show`. With a directory, each caught message is also kept there as an
`.eml` file (mode 600) that any mail client opens.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class BoundController(Controller):
    """An aiosmtpd Controller serving on a socket bound beforehand (port 0 picks a free port, without races)."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:
        self._sock.listen(128)
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class _Keep:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.caught = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.caught += 1
            number = self.caught
        if self.directory is not None and isinstance(envelope.original_content, bytes):
            name = f"{os.getpid()}-{number:06d}.eml"
            fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(envelope.original_content)
        await asyncio.sleep(0)
        return "250 2.0.0 caught by the dialconf mail catcher"


class MailCatcher:
    """Start with `start()`; `host` and `port` say where it listens; `stop()` shuts it down."""

    def __init__(self, *, directory: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        if directory is not None:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._handler = _Keep(directory)
        self._sock = bind_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self.directory = directory
        self._controller = BoundController(
            self._handler, self._sock, server_hostname="dialconf-catcher", ident="dialconf mail catcher"
        )

    @property
    def caught(self) -> int:
        return self._handler.caught

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
