"""Signing in and out of the web admin center, the throttle, CSRF and the security headers."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialconf.services.sessions import MAX_FAILURES
from dialconf.web.auth import SESSION_COOKIE
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, PASSWORD, LiveServer, sign_in, signin_csrf


def _attempt(client: TestClient, email: str, password: str) -> httpx.Response:
    return client.post("/signin", data={"email": email, "password": password, "csrf": signin_csrf(client)})


def test_a_page_without_a_session_redirects_to_the_sign_in_form(client: TestClient) -> None:
    answer = client.get("/users?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fusers%3Fx%3D1"


def test_the_right_password_signs_in_with_an_httponly_lax_cookie_and_shows_the_account(
    client: TestClient,
) -> None:
    answer = _attempt(client, ADMIN, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/users"
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = client.get("/users")
    assert page.status_code == 200 and ADMIN in page.text and "contoso" in page.text


def test_the_session_cookie_is_secure_when_the_public_url_is_https(web_world) -> None:  # type: ignore[no-untyped-def]
    from dialconf.web.app import create_app

    app = create_app(web_world.settings(public_url="https://dial.example"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        answer = _attempt(c, ADMIN, PASSWORD)
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


def test_the_session_stores_only_a_hash_of_the_cookie(client: TestClient, web_world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dialconf.store.models import WebSession

    sign_in(client, ADMIN)
    token = client.cookies[SESSION_COOKIE]
    with web_world.cli.uow() as uow:
        hashes = list(uow.session.scalars(select(WebSession.session_hash)))
    assert len(hashes) == 1 and token not in hashes[0]


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    csrf = sign_in(client, ADMIN)
    token = client.cookies[SESSION_COOKIE]
    answer = client.post("/signout", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    client.cookies.set(SESSION_COOKIE, token)  # a copy of the old cookie is worth nothing now
    assert client.get("/users").status_code == 303


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    sign_in(client, ADMIN)
    answer = client.post("/signout", data={})
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert client.get("/users").status_code == 200  # still signed in


def test_the_sign_in_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/signin")
    answer = client.post("/signin", data={"email": ADMIN, "password": PASSWORD, "csrf": "forged"})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_wrong_password_is_refused_without_saying_whether_the_account_exists(client: TestClient) -> None:
    known = _attempt(client, ADMIN, "wrong password")
    unknown = _attempt(client, "nobody@contoso.com", "wrong password")
    assert known.status_code == unknown.status_code == 403
    assert "wrong email or password" in known.text and "wrong email or password" in unknown.text


def test_repeated_wrong_passwords_lock_the_account_out_even_with_the_right_one(app: FastAPI) -> None:
    # each attempt from another address: the lock is on the account name
    for n in range(MAX_FAILURES):
        with TestClient(app, client=(f"192.0.2.{n}", 5000), follow_redirects=False) as c:
            assert _attempt(c, ADMIN, "wrong password").status_code == 403
    with TestClient(app, client=("198.51.100.7", 5000), follow_redirects=False) as c:
        answer = _attempt(c, ADMIN, PASSWORD)
        assert answer.status_code == 429
        assert "too many failed sign-ins" in answer.text
        assert _attempt(c, HELPDESK, PASSWORD).status_code == 303  # other accounts are not locked


def test_repeated_failures_from_one_address_lock_that_address_out_for_every_account(
    client: TestClient,
) -> None:
    for n in range(MAX_FAILURES):
        assert _attempt(client, f"guess{n}@contoso.com", "wrong password").status_code == 403
    answer = _attempt(client, OPERATOR, PASSWORD)
    assert answer.status_code == 429
    assert SESSION_COOKIE not in client.cookies


def test_an_unknown_account_name_is_locked_out_like_a_known_one(client: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        _attempt(client, "nobody@contoso.com", "wrong password")
    assert "too many failed sign-ins" in _attempt(client, "nobody@contoso.com", "x").text


def test_the_lock_lifts_after_fifteen_minutes(web_world) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from dialconf.web.app import create_app

    now = [datetime.now(UTC)]
    app = create_app(web_world.settings(), clock=lambda: now[0])
    with TestClient(app, follow_redirects=False) as c:
        for _ in range(MAX_FAILURES):
            _attempt(c, ADMIN, "wrong password")
        assert _attempt(c, ADMIN, PASSWORD).status_code == 429
        now[0] += timedelta(minutes=15, seconds=1)
        assert _attempt(c, ADMIN, PASSWORD).status_code == 303


def test_sign_in_returns_only_to_a_path_of_this_site(client: TestClient) -> None:
    answer = client.post(
        "/signin",
        data={"email": ADMIN, "password": PASSWORD, "csrf": signin_csrf(client), "next": "//evil.example/x"},
    )
    assert answer.headers["location"] == "/users"


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/signin", "/users", "/static/app.css", "/api/v1/me", "/openapi.json", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';"), path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"


def test_pages_carry_no_inline_script_or_style(client: TestClient) -> None:
    csrf = sign_in(client, OPERATOR)
    page = client.get("/users").text
    assert "<style" not in page and "style=" not in page and " on" + "click=" not in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts == [(' src="/static/htmx.min.js" defer', "")]
    assert f'hx-headers=\'{{"X-CSRF-Token": "{csrf}"}}\'' in page
    # the operator's navigation
    for label in ("Users", "Bridge &amp; numbers", "Settings", "Mail", "Audit", "Tenants", "Admin accounts"):
        assert f">{label}</a>" in page


def test_helpdesk_navigation_has_no_settings_or_operator_links(client: TestClient) -> None:
    sign_in(client, HELPDESK)
    page = client.get("/users").text
    assert ">Users</a>" in page
    assert ">Settings</a>" not in page and ">Tenants</a>" not in page


def test_htmx_is_served_from_this_site(client: TestClient) -> None:
    answer = client.get("/static/htmx.min.js")
    assert answer.status_code == 200 and "htmx" in answer.text[:200]


def test_the_live_server_signs_in_over_real_http(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as c:
        form = c.get("/signin")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        answer = c.post("/signin", data={"email": ADMIN, "password": PASSWORD, "csrf": csrf})
        assert answer.status_code == 303
        assert c.get("/users").status_code == 200
