"""Bridges and numbers, settings, mail, audit, tenants and admin accounts pages, through plain form posts."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.conftest import ENABLE_ADA
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld, sign_in


def numbers_of(world: WebWorld) -> dict[str, dict[str, object]]:
    return {n["number"]: n for n in world.cli.ok("number", "list", "contoso")}


def test_the_operator_adds_a_number_and_a_bad_one_is_refused_beside_the_field(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, OPERATOR)
    form = {"csrf": csrf, "tenant": "contoso", "bridge": "main", "city": "Paris", "languages": "fr-FR en-US"}
    added = client.post("/bridges/numbers/add", data={**form, "number": "+33170000000"})
    assert added.status_code == 303
    assert numbers_of(web_world)["+33170000000"]["secondary_languages"] == ["en-US"]
    refused = client.post("/bridges/numbers/add", data={**form, "number": "+3317"})
    assert refused.status_code == 422
    cli = web_world.cli("number", "add", "contoso", "+3317")
    beside = re.search(r'id="add-error">([^<]+)<', refused.text)
    assert beside is not None and html.unescape(beside.group(1)) == cli.err.strip().removeprefix("dialconf: ")


def test_an_admin_sees_no_add_form_but_sets_the_default_and_removes_a_number(
    web_world: WebWorld, client: TestClient
) -> None:
    web_world.cli.ok("number", "add", "contoso", "+14255550111", "--city", "Redmond")
    csrf = sign_in(client, ADMIN)
    page = client.get("/bridges").text
    assert "Add a number" not in page and "Set default" in page
    assert (
        client.post(
            "/bridges/numbers/default", data={"csrf": csrf, "tenant": "contoso", "number": "+14255550111"}
        ).status_code
        == 303
    )
    assert numbers_of(web_world)["+14255550111"]["default"] is True
    assert (
        client.post(
            "/bridges/numbers/remove", data={"csrf": csrf, "tenant": "contoso", "number": "+14255550100"}
        ).status_code
        == 303
    )
    assert "+14255550100" not in numbers_of(web_world)


def test_helpdesk_sees_no_number_buttons_and_its_remove_is_refused(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, HELPDESK)
    assert "Remove" not in client.get("/bridges").text
    answer = client.post(
        "/bridges/numbers/remove", data={"csrf": csrf, "tenant": "contoso", "number": "+18005550199"}
    )
    assert answer.status_code == 403
    assert "+18005550199" in numbers_of(web_world)


def test_an_admin_may_not_switch_the_id_mode_even_by_a_direct_post(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, ADMIN)
    answer = client.post("/settings/id-mode", data={"csrf": csrf, "tenant": "contoso", "mode": "dynamic"})
    assert answer.status_code == 403 and "ask your operator" in answer.text
    assert web_world.cli.ok("tenant", "show", "contoso")["conference_id_mode"] == "static"


def test_settings_are_saved_and_a_bad_pin_length_is_shown_beside_its_field(
    web_world: WebWorld, client: TestClient
) -> None:
    csrf = sign_in(client, ADMIN)
    saved = client.post("/settings", data={"csrf": csrf, "tenant": "contoso", "pin_length": "6"})
    assert saved.status_code == 303
    shown = web_world.cli.ok("tenant", "show", "contoso")
    assert shown["pin_length"] == 6 and shown["auto_email"] is False  # an unchecked box is off
    refused = client.post(
        "/settings", data={"csrf": csrf, "tenant": "contoso", "pin_length": "40", "auto_email": "1"}
    )
    assert refused.status_code == 422
    assert 'id="e-pin_length"' in refused.text
    assert web_world.cli.ok("tenant", "show", "contoso")["pin_length"] == 6


def test_the_mail_page_lists_mail_and_refuses_to_retry_one_that_did_not_fail(
    web_world: WebWorld, client: TestClient
) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    mail = web_world.cli.ok("mail", "list")[0]
    csrf = sign_in(client, ADMIN)
    page = client.get("/mail?status=queued").text
    assert mail["subject"] in page and "ada@contoso.com" in page
    assert mail["subject"] not in client.get("/mail?status=failed").text
    answer = client.post(f"/mail/{mail['id']}/retry", data={"csrf": csrf})
    assert answer.status_code == 409 and "only a failed mail can be retried" in answer.text


def test_the_audit_page_filters_by_target(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    web_world.cli.ok("user", "reset-conference-id", "ada@contoso.com", "--no-email")
    sign_in(client, ADMIN)
    page = client.get("/audit?target=ada@contoso.com").text
    assert "user.reset_conference_id" in page and "user.enable" in page
    assert "tenant.create" not in page


def test_the_operator_creates_a_tenant_and_an_admin_account(web_world: WebWorld, client: TestClient) -> None:
    csrf = sign_in(client, OPERATOR)
    assert (
        client.post("/tenants", data={"csrf": csrf, "name": "fabrikam", "domain": "fabrikam.com"}).status_code
        == 303
    )
    assert "fabrikam" in client.get("/tenants").text
    bad = client.post("/tenants", data={"csrf": csrf, "name": "-bad", "domain": "bad.example"})
    assert bad.status_code == 422 and 'id="e-name"' in bad.text
    created = client.post(
        "/admins",
        data={
            "csrf": csrf,
            "tenant": "fabrikam",
            "email": "boss@fabrikam.com",
            "role": "admin",
            "password": "a long enough password",
        },
    )
    assert created.status_code == 303, created.text
    assert "boss@fabrikam.com" in client.get("/admins?tenant=fabrikam").text
