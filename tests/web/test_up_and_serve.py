"""The web server under `dialconf up` and `dialconf serve`, and the first operator account of `up`."""

from __future__ import annotations

import re
import signal

import httpx
import pytest

from dialconf.services.admins import FIRST_OPERATOR_EMAIL, ensure_operator_account
from dialconf.services.sessions import sign_in
from tests.conftest import TEST_KEY, Cli
from tests.support.smtp import WorkerProcess


def test_the_first_operator_is_created_once_with_a_password_that_signs_in(sqlite_cli: Cli) -> None:
    created = ensure_operator_account(sqlite_cli.uow())
    assert created is not None and created.email == FIRST_OPERATOR_EMAIL and created.password
    signed = sign_in(sqlite_cli.uow(), email=created.email, password=created.password, client="127.0.0.1")
    assert signed.actor.role == "operator" and signed.actor.tenant_id is None
    assert ensure_operator_account(sqlite_cli.uow()) is None


def test_the_first_operator_can_be_named_with_its_own_password(sqlite_cli: Cli) -> None:
    created = ensure_operator_account(sqlite_cli.uow(), email="ops@example.org", password="a long secret")
    assert created is not None and created.email == "ops@example.org" and created.password is None
    assert sign_in(sqlite_cli.uow(), email="ops@example.org", password="a long secret", client="x").actor


def test_only_the_operator_may_create_an_operator_account(sqlite_cli: Cli) -> None:
    sqlite_cli.ok("tenant", "create", "contoso", "--domain", "contoso.com")
    sqlite_cli.ok(
        "admin", "create", "boss@contoso.com", "--tenant", "contoso", "--role", "admin", stdin="password1\n"
    )
    refused = sqlite_cli(
        "--as",
        "boss@contoso.com",
        "admin",
        "create",
        "x@example.org",
        "--role",
        "operator",
        stdin="password1\n",
    )
    assert refused.code == 1 and refused.err == "dialconf: only the operator may create an operator account\n"
    made = sqlite_cli.ok("admin", "create", "Ops@Example.org", "--role", "operator", stdin="password1\n")
    assert made == {"email": "ops@example.org", "tenant": None, "role": "operator"}
    missing = sqlite_cli("admin", "create", "a@contoso.com", "--role", "admin", stdin="password1\n")
    assert missing.code == 1 and "give --tenant" in missing.err


@pytest.mark.slow
def test_up_serves_the_web_and_its_first_operator_signs_in(sqlite_cli: Cli) -> None:
    env = {"DIALCONF_DATABASE_URL": sqlite_cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    up = WorkerProcess(env, "up", "--port", "0")
    try:
        up.wait_for_line("started:")
        found = re.search(r"created operator account (\S+) with password (\S+) ", up.output)
        assert found, up.output
        url = re.search(r"web admin center on (http://127\.0\.0\.1:\d+)", up.output)
        assert url, up.output
        with httpx.Client(base_url=url.group(1), follow_redirects=False) as c:
            csrf = c.get("/signin").text.split('name="csrf" value="')[1].split('"')[0]
            answer = c.post(
                "/signin", data={"email": found.group(1), "password": found.group(2), "csrf": csrf}
            )
            assert answer.status_code == 303
            assert found.group(1) in c.get("/users").text
        up.signal(signal.SIGTERM)
        assert up.wait() == 0
    finally:
        up.stop()
    # a second start finds the operator and prints no password
    again = WorkerProcess(env, "up", "--port", "0")
    try:
        again.wait_for_line("started:")
        assert "created operator account" not in again.output
        again.signal(signal.SIGTERM)
        assert again.wait() == 0
    finally:
        again.stop()


@pytest.mark.slow
def test_serve_answers_on_the_port_it_prints(sqlite_cli: Cli) -> None:
    env = {"DIALCONF_DATABASE_URL": sqlite_cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    serve = WorkerProcess(env, "serve", "--port", "0")
    try:
        serve.wait_for_line("web admin center on")
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", serve.output)
        assert url, serve.output
        answer = httpx.get(url.group(1) + "/api/v1/me")
        assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
        serve.signal(signal.SIGINT)
        assert serve.wait() == 0
    finally:
        serve.stop()


def test_serve_refuses_a_port_in_use_in_one_line(sqlite_cli: Cli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = sqlite_cli("serve", "--port", str(port))
    assert result.code == 1
    assert (
        result.err.startswith(f"dialconf: cannot listen on 127.0.0.1:{port}: ")
        and result.err.count("\n") == 1
    )
