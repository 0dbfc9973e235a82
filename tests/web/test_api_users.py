"""The users part of the REST API: the same answers as the CLI's --json, and the same rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from dialconf.mail.compose import PIN_MASK
from tests.web.api_world import ADA, CONTOSO_FREE, CONTOSO_TOLL, ODD, ApiWorld, seed_api_world
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld, sign_in

PROBLEM = "application/problem+json"


@pytest.fixture
def world(web_world: WebWorld) -> ApiWorld:
    return seed_api_world(web_world)


def _user(upn: str) -> str:
    return "/api/v1/users/" + quote(upn, safe="@")


def _problem(answer: Any, status: int, type_: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["type"] == type_ and body["status"] == status and body["title"] and body["detail"]
    return body


def test_a_reset_through_the_api_gives_a_new_7_digit_id_and_the_old_one_is_refused_at_once(
    client: TestClient, world: ApiWorld
) -> None:
    old = world.facts["ada"]["conference_id"]
    before = world.web.cli.ok("dialin", "lookup", "--number", CONTOSO_TOLL, "--digits", old + "#")
    assert before["result"] == "join" and before["upn"] == ADA

    answer = client.post(_user(ADA) + "/conference-id/reset", json={"email": False}, headers=world.bearer(HELPDESK))
    assert answer.status_code == 200, answer.text
    reset = answer.json()
    assert set(reset) == {"upn", "conference_id", "previous_conference_id", "email_queued", "mode", "meetings_renewed", "message"}
    new = reset["conference_id"]
    assert len(new) == 7 and new.isdigit() and new != old
    assert reset["previous_conference_id"] == old and reset["email_queued"] is False

    refused = world.web.cli.ok("dialin", "lookup", "--number", CONTOSO_TOLL, "--digits", old + "#")
    assert refused["result"] == "reject"
    joined = world.web.cli.ok("dialin", "lookup", "--number", CONTOSO_TOLL, "--digits", new + "#")
    assert joined["result"] == "join" and joined["upn"] == ADA
    assert client.get(_user(ADA), headers=world.bearer(ADMIN)).json()["conference_id"] == new


def test_a_reset_with_email_sends_it_to_the_address_given(client: TestClient, world: ApiWorld) -> None:
    answer = client.post(
        _user(ADA) + "/conference-id/reset", json={"email": True, "to": "desk@contoso.com"}, headers=world.bearer(ADMIN)
    )
    assert answer.json()["email_queued"] is True
    newest = client.get("/api/v1/mail?limit=1", headers=world.bearer(ADMIN)).json()["items"][0]
    assert newest["to"] == "desk@contoso.com" and newest["kind"] == "conference_id_changed"


def test_a_weak_chosen_id_is_a_422_problem_unless_allowed(client: TestClient, world: ApiWorld) -> None:
    weak = client.put(_user(ADA) + "/conference-id", json={"conference_id": "1234567"}, headers=world.bearer(ADMIN))
    body = _problem(weak, 422, "/errors/invalid-conference-id")
    assert "trivially guessable" in body["detail"]
    allowed = client.put(
        _user(ADA) + "/conference-id",
        json={"conference_id": "123 456 7#", "allow_weak": True, "email": False},
        headers=world.bearer(ADMIN),
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["conference_id"] == "1234567" and allowed.json()["email_queued"] is False


def test_a_chosen_id_can_be_emailed_to_another_address(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    answer = client.put(
        _user(ADA) + "/conference-id",
        json={"conference_id": "2357913", "email": True, "to": "desk@contoso.com"},
        headers=h,
    )
    assert answer.status_code == 200 and answer.json()["email_queued"] is True
    newest = client.get("/api/v1/mail?limit=1", headers=h).json()["items"][0]
    assert newest["to"] == "desk@contoso.com" and newest["kind"] == "conference_id_changed"
    bad = client.put(_user(ADA) + "/conference-id", json={"conference_id": "2468013", "to": "not-an-address"}, headers=h)
    assert bad.status_code == 422 and bad.json()["type"] == "/errors/invalid-input"


def test_the_pin_is_in_the_reset_answer_once_and_never_in_the_user_nor_the_mail(
    client: TestClient, world: ApiWorld
) -> None:
    answer = client.post(_user(ODD) + "/pin/reset", headers=world.bearer(HELPDESK))
    assert answer.status_code == 200, answer.text
    reset = answer.json()
    pin = reset["pin"]
    assert set(reset) == {"upn", "pin", "email_queued"} and reset["upn"] == ODD
    assert pin.isdigit() and len(pin) == 5 and reset["email_queued"] is True

    shown = client.get(_user(ODD), headers=world.bearer(ADMIN))
    assert "pin" not in shown.json() and shown.json()["pin_set"] is True
    assert pin not in shown.text.replace(shown.json()["conference_id"], "")
    listed = client.get("/api/v1/users?tenant=contoso", headers=world.bearer(ADMIN))
    assert all("pin" not in u for u in listed.json()["items"])

    mail = client.get("/api/v1/mail?limit=1", headers=world.bearer(OPERATOR)).json()["items"][0]
    assert mail["kind"] == "pin_reset"
    detail = client.get(f"/api/v1/mail/{mail['id']}", headers=world.bearer(ADMIN))
    assert detail.status_code == 200
    assert pin not in detail.text and PIN_MASK in detail.json()["body_text"]
    audit = client.get(f"/api/v1/audit?target={quote(ODD, safe='')}", headers=world.bearer(ADMIN))
    assert audit.json()["items"] and pin not in audit.text


def test_answers_carry_exactly_the_fields_of_the_cli_json(client: TestClient, world: ApiWorld) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    assert client.get(_user(ODD), headers=h).json() == cli.ok("user", "show", ODD)
    assert client.get("/api/v1/tenants/contoso", headers=h).json() == cli.ok("tenant", "show", "contoso")
    assert client.get("/api/v1/tenants/contoso/settings", headers=h).json() == cli.ok("tenant", "show", "contoso")
    assert client.get("/api/v1/tenants/contoso/bridges", headers=h).json() == cli.ok("bridge", "show", "contoso")
    assert client.get("/api/v1/tenants/contoso/bridges/main", headers=h).json() == cli.ok(
        "bridge", "show", "contoso", "main"
    )
    assert client.get("/api/v1/tenants/contoso/numbers", headers=h).json() == cli.ok("number", "list", "contoso")
    assert client.get("/api/v1/users?tenant=contoso", headers=h).json()["items"] == cli.ok(
        "user", "list", "--tenant", "contoso"
    )
    mail_id = world.facts["contoso_mail"]
    assert client.get(f"/api/v1/mail/{mail_id}", headers=h).json() == cli.ok("--as", ADMIN, "mail", "show", str(mail_id))
    assert client.get("/api/v1/mail", headers=h).json()["items"] == cli.ok("--as", ADMIN, "mail", "list")
    audit = client.get("/api/v1/audit?limit=1000", headers=h).json()["items"]
    assert audit == cli.ok("--as", ADMIN, "audit", "list")
    # an action answers like `_action` of cli/user.py: the user, plus email_queued and message
    api = client.post(_user(ODD) + "/disable", json={"email": False}, headers=h).json()
    cli.ok("--as", ADMIN, "user", "set-default-number", ADA, "--toll", CONTOSO_TOLL, "--no-email")
    assert set(api) == set(cli.ok("user", "show", ODD)) | {"email_queued", "message"}
    assert api["enabled"] is False and api["message"] == "user disabled" and api["email_queued"] is False


def test_enable_takes_the_options_of_user_enable_and_answers_201(client: TestClient, world: ApiWorld) -> None:
    body = {
        "upn": "Grace@Contoso.com",
        "tenant": "contoso",
        "email": "grace@contoso.com",
        "name": "Grace Hopper",
        "country": "US",
        "toll_free_number": CONTOSO_FREE,
        "conference_id": "2357913",
        "send_email": False,
    }
    answer = client.post("/api/v1/users", json=body, headers=world.bearer(ADMIN))
    assert answer.status_code == 201, answer.text
    enabled = answer.json()
    assert enabled["upn"] == "grace@contoso.com" and enabled["conference_id"] == "2357913"
    assert enabled["toll_free_number"] == CONTOSO_FREE and enabled["email_queued"] is False
    assert enabled["message"] == "user enabled"
    again = client.post("/api/v1/users", json=body, headers=world.bearer(ADMIN))
    assert 400 <= again.status_code < 500 and again.headers["content-type"] == PROBLEM


def test_unknown_body_fields_are_refused_not_ignored(client: TestClient, world: ApiWorld) -> None:
    answer = client.post(
        _user(ADA) + "/conference-id/reset", json={"email": False, "send_email": False}, headers=world.bearer(ADMIN)
    )
    body = _problem(answer, 422, "/errors/request-validation")
    assert body["errors"][0]["loc"][-1] == "send_email"


def test_acp_and_default_numbers_as_set_acp_and_set_default_number(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    acp = client.put(
        _user(ADA) + "/acp",
        json={
            "provider_name": "Acme",
            "toll_number": "+14255550999",
            "toll_free_numbers": ["+18005550998"],
            "participant_passcode": "123456",
            "email": False,
        },
        headers=h,
    )
    assert acp.status_code == 200, acp.text
    assert acp.json()["provider"] == "third-party" and acp.json()["third_party"]["provider_name"] == "Acme"
    numbers = client.put(
        _user(ODD) + "/default-numbers", json={"toll_free": CONTOSO_FREE, "email": False}, headers=h
    )
    assert numbers.status_code == 200, numbers.text
    assert numbers.json()["toll_free_number"] == CONTOSO_FREE
    not_ours = client.put(_user(ODD) + "/default-numbers", json={"toll": "+13125550100"}, headers=h)
    assert 400 <= not_ours.status_code < 500 and not_ours.headers["content-type"] == PROBLEM


def test_send_info_answers_like_send_info_json(client: TestClient, world: ApiWorld) -> None:
    answer = client.post(_user(ADA) + "/conference-info/send", json={"to": "desk@contoso.com"}, headers=world.bearer(HELPDESK))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "upn": ADA,
        "email_queued": True,
        "message": "conference info queued for desk@contoso.com",
        "user": None,
    }


def test_the_user_list_pages_with_a_cursor_and_filters(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    for n in range(3):
        world.web.cli.ok(
            "user", "enable", f"p{n}@contoso.com", "--tenant", "contoso", "--email", f"p{n}@contoso.com",
            "--name", f"Paged {n}", "--no-email",
        )  # fmt: skip
    client.post(_user("p1@contoso.com") + "/disable", json={"email": False}, headers=h)
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/users?tenant=contoso&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=h).json()
        seen += [u["upn"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([ADA, ODD, "p0@contoso.com", "p1@contoso.com", "p2@contoso.com"])
    searched = client.get("/api/v1/users?tenant=contoso&search=paged&enabled=true", headers=h).json()
    assert [u["upn"] for u in searched["items"]] == ["p0@contoso.com", "p2@contoso.com"]
    assert searched["next_cursor"] is None
    disabled = client.get("/api/v1/users?tenant=contoso&enabled=false", headers=h).json()
    assert [u["upn"] for u in disabled["items"]] == ["p1@contoso.com"]
    assert client.get("/api/v1/users?tenant=contoso&provider=builtin", headers=h).json()["items"]
    _problem(client.get("/api/v1/users?tenant=contoso&provider=acme", headers=h), 422, "/errors/invalid-input")
    _problem(client.get("/api/v1/users?tenant=contoso&cursor=%%%", headers=h), 422, "/errors/invalid-input")
    _problem(client.get("/api/v1/users?tenant=contoso&limit=0", headers=h), 422, "/errors/request-validation")


def test_domain_errors_are_problems_with_a_stable_type_never_500(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    _problem(client.get(_user("nobody@contoso.com"), headers=h), 404, "/errors/user-not-found")
    _problem(client.get("/api/v1/tenants/contoso/bridges/nope", headers=h), 404, "/errors/bridge-not-found")
    _problem(client.get("/api/v1/mail/999999", headers=h), 404, "/errors/mail-not-found")
    _problem(client.post("/api/v1/mail/1/retry", headers=h), 409, "/errors/conflict")
    _problem(client.patch("/api/v1/tenants/contoso/settings", json={"pin_length": 99}, headers=h), 422, "/errors/invalid-setting")
    assert client.post(_user(ODD) + "/disable", headers=h).status_code == 200
    _problem(client.post(_user(ODD) + "/disable", headers=h), 422, "/errors/invalid-input")
    _problem(client.post("/api/v1/tenants", json={"name": "newco"}, headers=h), 403, "/errors/forbidden")
    _problem(client.delete("/api/v1/tenants/contoso/numbers/+14255550100", headers=h), 409, "/errors/conflict")


def test_the_session_cookie_with_the_csrf_header_works_for_actions(client: TestClient, world: ApiWorld) -> None:
    csrf = sign_in(client, ADMIN)
    assert client.post(_user(ADA) + "/pin/reset").status_code == 403
    answer = client.post(_user(ADA) + "/pin/reset", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200 and answer.json()["pin"].isdigit()


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("/pin/reset", "POST"),
        ("/conference-id/reset", "POST"),
        ("/conference-info/send", "POST"),
        ("/disable", "POST"),
        ("/conference-id", "PUT"),
        ("/acp", "PUT"),
        ("/default-numbers", "PUT"),
    ],
)
def test_a_get_on_a_user_action_path_is_a_405_naming_the_method_it_takes(
    client: TestClient, world: ApiWorld, action: str, allowed: str
) -> None:
    answer = client.get(_user(ADA) + action, headers=world.bearer(ADMIN))
    _problem(answer, 405, "/errors/http-405")
    assert answer.headers["allow"] == allowed
    # the user itself is still shown by its own path
    assert client.get(_user(ADA), headers=world.bearer(ADMIN)).json()["upn"] == ADA
