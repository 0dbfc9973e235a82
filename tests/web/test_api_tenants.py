"""Tenants, settings, bridges, numbers, audit and mail over the REST API, as the CLI does them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.api_world import CONTOSO_FREE, CONTOSO_TOLL, ApiWorld, seed_api_world
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld


@pytest.fixture
def world(web_world: WebWorld) -> ApiWorld:
    return seed_api_world(web_world)


def test_the_operator_creates_a_tenant_with_a_bridge_and_numbers(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(OPERATOR)
    created = client.post("/api/v1/tenants", json={"name": "northwind", "domains": ["northwind.com"]}, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["domains"] == ["northwind.com"] and created.json()["conference_id_mode"] == "dynamic"
    mode = client.put("/api/v1/tenants/northwind/conference-id-mode", json={"mode": "static"}, headers=h)
    assert mode.json()["conference_id_mode"] == "static"
    domain = client.post("/api/v1/tenants/northwind/domains", json={"domain": "northwind.net"}, headers=h)
    assert domain.json()["domains"] == ["northwind.com", "northwind.net"]
    gone = client.delete("/api/v1/tenants/northwind/domains/northwind.net", headers=h)
    assert gone.json()["domains"] == ["northwind.com"]
    bridge = client.post("/api/v1/tenants/northwind/bridges", json={"name": "main", "id_length": 8}, headers=h)
    assert bridge.status_code == 201 and bridge.json()["id_length"] == 8
    number = client.post(
        "/api/v1/tenants/northwind/numbers",
        json={"number": "+442071234567", "city": "London", "languages": ["en-GB", "fr-FR"]},
        headers=h,
    )
    assert number.status_code == 201, number.text
    assert number.json()["default"] is True and number.json()["secondary_languages"] == ["fr-FR"]
    listed = client.get("/api/v1/tenants", headers=h).json()
    assert [t["name"] for t in listed] == ["contoso", "fabrikam", "northwind"]
    assert client.get("/api/v1/tenants/northwind/bridges/main", headers=h).json()["default_number"] == "+442071234567"


def test_an_admin_changes_settings_but_not_the_id_mode(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    patched = client.patch(
        "/api/v1/tenants/contoso/settings", json={"auto_email": False, "pin_length": 6}, headers=h
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["auto_email"] is False and patched.json()["pin_length"] == 6
    assert patched.json()["id_quarantine_days"] == 90  # untouched
    assert client.get("/api/v1/tenants/contoso/settings", headers=h).json() == patched.json()
    refused = client.put("/api/v1/tenants/contoso/conference-id-mode", json={"mode": "dynamic"}, headers=h)
    assert refused.status_code == 403 and "ask your operator" in refused.json()["detail"]
    assert client.patch("/api/v1/tenants/contoso/settings", json={"auto_email": False}, headers=world.bearer(HELPDESK)).status_code == 403


def test_numbers_set_default_and_remove(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    toll_free = client.put(f"/api/v1/tenants/contoso/numbers/{CONTOSO_FREE}/default", headers=h)
    assert toll_free.status_code == 422 and toll_free.json()["type"] == "/errors/invalid-input"
    again = client.put(f"/api/v1/tenants/contoso/numbers/{CONTOSO_TOLL}/default", headers=h)
    assert again.status_code == 200 and again.json()["default"] is True
    client.put("/api/v1/users/ada@contoso.com/default-numbers", json={"toll_free": CONTOSO_FREE}, headers=h)
    in_use = client.delete(f"/api/v1/tenants/contoso/numbers/{CONTOSO_FREE}", headers=h)
    assert in_use.status_code == 409 and "ada@contoso.com" in in_use.json()["detail"]
    added = client.post(
        "/api/v1/tenants/contoso/numbers", json={"number": "+12065550123"}, headers=world.bearer(OPERATOR)
    )
    assert added.status_code == 201
    removed = client.delete("/api/v1/tenants/contoso/numbers/%2B12065550123", headers=h)
    assert removed.status_code == 200 and removed.json()["number"] == "+12065550123"
    numbers = [n["number"] for n in client.get("/api/v1/tenants/contoso/numbers", headers=h).json()]
    assert numbers == [CONTOSO_TOLL, CONTOSO_FREE]


def test_audit_and_mail_page_newest_first_with_a_cursor(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    for _ in range(3):
        client.post("/api/v1/users/ada@contoso.com/conference-info/send", headers=h)
    everything = client.get("/api/v1/audit?limit=1000", headers=h).json()
    assert everything["next_cursor"] is None
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    paged: list[int] = []
    cursor = None
    while True:
        page = client.get("/api/v1/audit?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=h).json()
        paged += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert paged == ids
    about_ada = client.get("/api/v1/audit?tenant=contoso&target=ada@contoso.com", headers=h).json()["items"]
    assert about_ada and {e["target"] for e in about_ada} == {"ada@contoso.com"}

    mail = client.get("/api/v1/mail?status=queued&limit=2", headers=h).json()
    assert len(mail["items"]) == 2 and mail["next_cursor"]
    rest = client.get(f"/api/v1/mail?status=queued&limit=100&cursor={mail['next_cursor']}", headers=h).json()
    assert rest["next_cursor"] is None
    all_ids = [m["id"] for m in mail["items"] + rest["items"]]
    assert all_ids == sorted(all_ids, reverse=True) and len(all_ids) == len(set(all_ids)) >= 5
    assert client.get("/api/v1/mail?status=sent", headers=h).json() == {"items": [], "next_cursor": None}
    bad = client.get("/api/v1/audit?cursor=abc", headers=h)
    assert bad.status_code == 422 and bad.json()["type"] == "/errors/invalid-input"


def test_only_a_failed_mail_can_be_retried(client: TestClient, world: ApiWorld) -> None:
    from sqlalchemy import update

    from dialconf.store.models import OutboxMail

    mail_id = world.facts["contoso_mail"]
    queued = client.post(f"/api/v1/mail/{mail_id}/retry", headers=world.bearer(HELPDESK))
    assert queued.status_code == 409 and "only a failed mail can be retried" in queued.json()["detail"]
    with world.web.cli.uow() as uow:  # as the delivery worker leaves a mail that failed for good
        uow.session.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id).values(status="failed", last_error="550 no such user")
        )
        uow.commit()
    retried = client.post(f"/api/v1/mail/{mail_id}/retry", headers=world.bearer(HELPDESK))
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued" and retried.json()["attempts"] == 0


def test_an_admin_connects_a_caldav_calendar_whose_password_no_answer_shows(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    secret = "Calendar-Secret-4711"
    body = {
        "caldav_url": "https://calendar.contoso.com/{upn}/calendar/",
        "caldav_username": "dialconf",
        "caldav_password": secret,
    }
    patched = client.patch("/api/v1/tenants/contoso/settings", json=body, headers=h)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["caldav_connected"], patched.json()["caldav_username"]) == (True, "dialconf")
    for answer in (patched, client.get("/api/v1/tenants/contoso", headers=h), client.get("/api/v1/tenants", headers=h)):
        assert secret not in answer.text and "caldav_password" not in answer.text
    bad = client.patch("/api/v1/tenants/contoso/settings", json={**body, "caldav_url": "ftp://x.example/"}, headers=h)
    assert bad.status_code == 422 and secret not in bad.text
    gone = client.patch("/api/v1/tenants/contoso/settings", json={"caldav_url": ""}, headers=h)
    assert gone.json()["caldav_connected"] is False and gone.json()["caldav_url"] is None
