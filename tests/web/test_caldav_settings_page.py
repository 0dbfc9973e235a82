"""The calendar server (CalDAV) on the settings page: connected, changed and disconnected through the
same service as `dialconf tenant set --caldav-*`; the password never comes back in a page."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld, sign_in

URL = "https://calendar.contoso.com/dav/{upn}/calendar/"
SECRET = "s3cret-CalDAV-pw"


def _shown(world: WebWorld) -> tuple[object, object, object]:
    tenant = world.cli.ok("tenant", "show", "contoso")
    return tenant["caldav_url"], tenant["caldav_username"], tenant["caldav_connected"]


def _beside(page: str, field: str) -> str:
    found = re.search(rf'id="e-{field}">([^<]+)<', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def test_an_admin_connects_the_calendar_and_the_password_is_never_shown(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, ADMIN)
    before = client.get("/settings").text
    assert "Not connected" in before and 'autocomplete="new-password"' in before
    form = {"csrf": csrf, "tenant": "contoso", "caldav_url": URL, "caldav_username": "dialconf"}
    saved = client.post("/settings/caldav", data={**form, "caldav_password": SECRET})
    assert saved.status_code == 303 and "done=caldav" in saved.headers["location"]
    assert _shown(web_world) == (URL, "dialconf", True)

    page = client.get(saved.headers["location"]).text
    assert "Calendar server saved" in page and "signing in as dialconf" in page
    assert SECRET not in page
    audit = web_world.cli("audit", "list", "--tenant", "contoso").out
    assert SECRET not in audit and "***" in audit

    # saving again with the password left empty keeps the stored one
    kept = client.post("/settings/caldav", data={**form, "caldav_password": ""})
    assert kept.status_code == 303
    moved = client.post(
        "/settings/caldav",
        data={**form, "caldav_url": "https://other.contoso.com/dav/", "caldav_password": ""},
    )
    assert moved.status_code == 422
    assert "give the password for it again" in _beside(moved.text, "caldav_password")
    assert SECRET not in moved.text
    assert _shown(web_world) == (URL, "dialconf", True)


@pytest.mark.parametrize(
    ("url", "field", "words"),
    [
        ("ftp://calendar.contoso.com/x/", "caldav_url", "http:// or https://"),
        ("https://calendar.contoso.com/{user}/", "caldav_url", "placeholder"),
        ("https://dialconf:pw@calendar.contoso.com/", "caldav_url", "must not hold a user name"),
        ("", "caldav_url", "Disconnect"),
    ],
)
def test_a_bad_url_is_refused_beside_its_field_in_the_clis_words(
    web_world: WebWorld, client: TestClient, url: str, field: str, words: str
) -> None:
    csrf = sign_in(client, ADMIN)
    refused = client.post("/settings/caldav", data={"csrf": csrf, "tenant": "contoso", "caldav_url": url})
    assert refused.status_code == 422
    message = _beside(refused.text, field)
    assert words in message
    if url:
        cli = web_world.cli("tenant", "set", "contoso", "--caldav-url", url)
        assert cli.code != 0 and cli.err.strip().removeprefix("dialconf: ") == message
    assert _shown(web_world) == (None, None, False)


def test_an_admin_may_not_point_the_calendar_at_a_private_address_but_the_operator_may(
    web_world: WebWorld, client: TestClient
) -> None:
    internal = "http://127.0.0.1:5232/{upn}/"
    csrf = sign_in(client, ADMIN)
    refused = client.post(
        "/settings/caldav", data={"csrf": csrf, "tenant": "contoso", "caldav_url": internal}
    )
    assert refused.status_code == 403
    assert "only the operator" in _beside(refused.text, "caldav_url")
    assert _shown(web_world) == (None, None, False)
    client.post("/signout", data={"csrf": csrf})
    csrf = sign_in(client, OPERATOR)
    saved = client.post("/settings/caldav", data={"csrf": csrf, "tenant": "contoso", "caldav_url": internal})
    assert saved.status_code == 303 and "tenant=contoso" in saved.headers["location"]
    assert _shown(web_world) == (internal, None, True)


def test_disconnect_forgets_the_calendar_and_its_password(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok(
        "tenant", "set", "contoso", "--caldav-url", URL, "--caldav-username", "dialconf",
        "--caldav-password-stdin", stdin=SECRET + "\n",
    )  # fmt: skip
    csrf = sign_in(client, ADMIN)
    assert "Disconnect the calendar server" in client.get("/settings").text
    answer = client.post("/settings/caldav", data={"csrf": csrf, "tenant": "contoso", "disconnect": "1"})
    assert answer.status_code == 303 and "done=caldav-off" in answer.headers["location"]
    assert _shown(web_world) == (None, None, False)
    assert "Disconnect the calendar server" not in client.get("/settings").text


def test_without_the_csrf_token_or_as_helpdesk_nothing_changes(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, ADMIN)
    forged = client.post("/settings/caldav", data={"tenant": "contoso", "caldav_url": URL})
    assert forged.status_code == 403
    client.post("/signout", data={"csrf": csrf})
    csrf = sign_in(client, HELPDESK)
    refused = client.post("/settings/caldav", data={"csrf": csrf, "tenant": "contoso", "caldav_url": URL})
    assert refused.status_code == 403
    assert _shown(web_world) == (None, None, False)


def test_another_tenants_calendar_is_out_of_an_admins_reach(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    csrf = sign_in(client, ADMIN)
    for form in ({"caldav_url": URL}, {"disconnect": "1"}):
        answer = client.post("/settings/caldav", data={"csrf": csrf, "tenant": "fabrikam", **form})
        assert answer.status_code == 404
    assert web_world.cli.ok("tenant", "show", "fabrikam")["caldav_connected"] is False
