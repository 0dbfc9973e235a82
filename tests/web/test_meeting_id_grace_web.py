"""The meeting ID grace (days) in the REST API settings and on the admin center's settings page."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.web.api_world import FABRIKAM_ADMIN, ApiWorld, seed_api_world
from tests.web.conftest import ADMIN, HELPDESK, WebWorld, sign_in


def _grace_input(page: str) -> str:
    found = re.search(r'<input id="f-meeting_id_grace_days"[^>]*>', page)
    assert found is not None, "no meeting ID grace field on the page"
    return found.group(0)


def test_the_api_reads_and_patches_the_grace_like_the_cli_shows_it(web_world: WebWorld, client: TestClient) -> None:
    world: ApiWorld = seed_api_world(web_world)
    h = world.bearer(ADMIN)
    assert client.get("/api/v1/tenants/contoso/settings", headers=h).json()["meeting_id_grace_days"] == 1
    patched = client.patch("/api/v1/tenants/contoso/settings", json={"meeting_id_grace_days": 14}, headers=h)
    assert patched.status_code == 200, patched.text
    assert patched.json() == web_world.cli.ok("tenant", "show", "contoso")
    assert patched.json()["meeting_id_grace_days"] == 14 and patched.json()["pin_length"] == 5  # others untouched
    (event,) = [e for e in web_world.cli.ok("audit", "list", "--tenant", "contoso") if e["action"] == "tenant.settings"]
    assert (event["before"], event["after"]) == ({"meeting_id_grace_days": 1}, {"meeting_id_grace_days": 14})


def test_the_api_refuses_a_grace_out_of_range_and_keeps_the_old_one(web_world: WebWorld, client: TestClient) -> None:
    world = seed_api_world(web_world)
    h = world.bearer(ADMIN)
    for days in (-1, 366):
        refused = client.patch("/api/v1/tenants/contoso/settings", json={"meeting_id_grace_days": days}, headers=h)
        assert refused.status_code == 422
        assert refused.json()["detail"] == f"meeting ID grace must be 0 to 365 days, not {days}"
    helpdesk = client.patch(
        "/api/v1/tenants/contoso/settings", json={"meeting_id_grace_days": 3}, headers=world.bearer(HELPDESK)
    )
    assert helpdesk.status_code == 403
    other = client.patch(
        "/api/v1/tenants/contoso/settings", json={"meeting_id_grace_days": 3}, headers=world.bearer(FABRIKAM_ADMIN)
    )
    assert other.status_code == 404
    assert web_world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 1


def test_the_settings_page_shows_and_saves_the_grace_beside_the_other_settings(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, ADMIN)
    field = _grace_input(client.get("/settings").text)
    assert 'value="1"' in field and "disabled" not in field
    form = {"csrf": csrf, "tenant": "contoso", "auto_email": "1", "meeting_migration": "1"}
    saved = client.post("/settings", data={**form, "meeting_id_grace_days": "7"})
    assert saved.status_code == 303
    assert web_world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 7
    assert 'value="7"' in _grace_input(client.get("/settings").text)

    refused = client.post("/settings", data={**form, "meeting_id_grace_days": "400"})
    assert refused.status_code == 422
    beside = re.search(r'id="e-meeting_id_grace_days">([^<]+)<', refused.text)
    assert beside is not None
    assert html.unescape(beside.group(1)) == "meeting ID grace must be 0 to 365 days, not 400"
    not_a_number = client.post("/settings", data={**form, "meeting_id_grace_days": "soon"})
    assert not_a_number.status_code == 422 and 'id="e-meeting_id_grace_days"' in not_a_number.text
    assert web_world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 7


def test_helpdesk_sees_the_grace_read_only(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok("tenant", "set", "contoso", "--meeting-id-grace-days", "9")
    sign_in(client, HELPDESK)
    field = _grace_input(client.get("/settings").text)
    assert 'value="9"' in field and "disabled" in field
