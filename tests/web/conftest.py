"""Fixtures for the web layer: the app on a seeded SQLite database, in-process or on a real port.

- `web_world`: a SQLite database (schema at head) with tenant contoso (bridge, numbers) and three
  accounts: ADMIN, HELPDESK (of contoso) and OPERATOR (no tenant), all with PASSWORD.
- `client`: a Starlette TestClient on create_app (no network); `sign_in(client, email)` signs it in
  through the real form and returns the session's CSRF token.
- `live_server`: uvicorn serving the same app on 127.0.0.1 and a free port, in a thread; its `.url`
  is the base URL for browsers (Playwright) and plain HTTP clients.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialconf.config import Settings
from dialconf.web.app import create_app
from tests.conftest import TEST_KEY, Cli, seed_tenant

PASSWORD = "correct horse battery"
ADMIN = "admin@contoso.com"
HELPDESK = "help@contoso.com"
OPERATOR = "root@dialconf.localhost"


@dataclass(frozen=True)
class WebWorld:
    url: str  # the database URL
    cli: Cli

    def settings(self, **overrides: str) -> Settings:
        values = {
            "database_url": self.url,
            "secret_key": TEST_KEY,
            "public_url": "http://testserver",
            **overrides,
        }
        return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def web_world(sqlite_cli: Cli) -> WebWorld:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok("admin", "create", ADMIN, "--tenant", "contoso", "--role", "admin", stdin=PASSWORD + "\n")
    sqlite_cli.ok(
        "admin", "create", HELPDESK, "--tenant", "contoso", "--role", "helpdesk", stdin=PASSWORD + "\n"
    )
    sqlite_cli.ok("admin", "create", OPERATOR, "--role", "operator", stdin=PASSWORD + "\n")
    return WebWorld(url=sqlite_cli.url, cli=sqlite_cli)


@pytest.fixture
def app(web_world: WebWorld) -> FastAPI:
    return create_app(web_world.settings())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


def signin_csrf(client: TestClient) -> str:
    """The sign-in form's CSRF token (GET /signin also sets its cookie)."""
    page = client.get("/signin")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the session's CSRF token (read from a page's sign-out form)."""
    answer = client.post("/signin", data={"email": email, "password": password, "csrf": signin_csrf(client)})
    assert answer.status_code == 303, answer.text
    page = client.get("/users")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


@dataclass(frozen=True)
class LiveServer:
    url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(web_world: WebWorld) -> Iterator[LiveServer]:
    import uvicorn

    port = free_port()
    app = create_app(web_world.settings(public_url=f"http://127.0.0.1:{port}"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="dialconf-test-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
