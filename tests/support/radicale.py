"""A real Radicale CalDAV server for tests: its own process on a free 127.0.0.1 port, storage in a temp folder.

Users sign in with HTTP Basic against a plain htpasswd file; any signed-in user may read and write
every calendar (`[rights] type = authenticated`), as a service account of dialconf needs. The server
can be stopped and started again on the same port and storage, to test an outage.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

START_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unreachable_calendar_url() -> str:
    """A CalDAV URL on this machine where nothing listens: a calendar server that is down.

    Only the operator may set it (an address on this machine); a job's calendar step then fails
    with a message naming `127.0.0.1:PORT`.
    """
    return f"http://127.0.0.1:{free_port()}/{{upn}}/"


class RadicaleServer:
    def __init__(self, folder: Path, users: dict[str, str]) -> None:
        self.folder = folder
        self.users = users
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        (folder / "users").write_text("".join(f"{name}:{password}\n" for name, password in users.items()))
        (folder / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {folder / 'users'}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = authenticated\n"
            "[storage]\n"
            f"filesystem_folder = {folder / 'collections'}\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            "level = warning\n"
        )

    def start(self) -> None:
        self._log = (self.folder / "log").open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.folder / "config")],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"radicale exited: {(self.folder / 'log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"radicale did not listen on port {self.port} within {START_SECONDS} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, user: str) -> httpx.Client:
        """A plain HTTP client signed in as `user`, for the test's own reads and writes."""
        return httpx.Client(auth=(user, self.users[user]), timeout=10)

    def make_calendar(self, user: str, path: str) -> str:
        """Create the calendar collection at `path` (such as /ada@contoso.com/calendar/); returns its URL."""
        url = f"{self.url}{path}"
        parent = url.rstrip("/").rsplit("/", 1)[0] + "/"
        with self.client(user) as http:
            if parent != f"{self.url}/":
                made = http.request("MKCOL", parent)
                assert made.status_code in (201, 405), f"MKCOL {parent}: {made.status_code}"
            response = http.request("MKCALENDAR", url)
        assert response.status_code == 201, f"MKCALENDAR {url}: {response.status_code} {response.text[:300]}"
        return url


@contextmanager
def radicale_server(folder: Path, users: dict[str, str]) -> Iterator[RadicaleServer]:
    server = RadicaleServer(folder, users)
    server.start()
    try:
        yield server
    finally:
        server.stop()
