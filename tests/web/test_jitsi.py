"""Jitsi Meet's conference mapper and phone number list, with Jitsi's exact JSON shapes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialconf.domain.roles import Actor
from dialconf.services import dialin
from tests.web.conftest import ADMIN, WebWorld, sign_in

MUC = "conference.meet.contoso.com"


@pytest.fixture
def jitsi(web_world: WebWorld) -> WebWorld:
    web_world.cli.ok("tenant", "set", "contoso", "--jitsi-muc-domain", MUC)
    return web_world


def _map(client: TestClient, query: str) -> tuple[int, Any]:
    answer = client.get(f"/jitsi/conferenceMapper?{query}")
    assert answer.headers["access-control-allow-origin"] == "*"
    return answer.status_code, answer.json()


def test_a_room_gets_a_persistent_id_and_the_id_gives_the_room_back(
    jitsi: WebWorld, client: TestClient
) -> None:
    status, first = _map(client, f"conference=standup@{MUC}")
    assert status == 200
    assert set(first) == {"message", "id", "conference"}
    assert first["message"] == "Successfully retrieved conference mapping"
    assert first["conference"] == f"standup@{MUC}"
    assert isinstance(first["id"], int) and len(str(first["id"])) == 7
    assert _map(client, f"conference=standup@{MUC}") == (200, first)  # persistent
    assert _map(client, f"id={first['id']}") == (200, first)


def test_room_names_fold_case_and_encoding_as_jitsi_does(jitsi: WebWorld, client: TestClient) -> None:
    _, plain = _map(client, f"conference=Standup@{MUC}")
    assert _map(client, f"conference=standup@{MUC.upper()}")[1]["id"] == plain["id"]
    _, encoded = _map(client, f"conference=%C3%89quipe%20Nord@{MUC}")  # as Jitsi encodes "Équipe Nord"
    _, unencoded = _map(client, f"conference=équipe nord@{MUC}")  # as a client may send it
    _, double = _map(client, f"conference=%25C3%25A9quipe%2520nord%40{MUC}")
    assert encoded["id"] == unencoded["id"] == double["id"] != plain["id"]
    assert encoded["conference"] == f"%C3%A9quipe%20nord@{MUC}"


def test_unknown_and_missing_parameters_answer_in_jitsis_shape(jitsi: WebWorld, client: TestClient) -> None:
    assert _map(client, "") == (
        400,
        {"message": "No conference or id provided", "conference": False, "id": False},
    )
    assert _map(client, "id=1234567") == (
        404,
        {"message": "No conference mapping was found", "id": 1234567, "conference": False},
    )
    assert _map(client, "conference=standup@conference.elsewhere.org") == (
        404,
        {"message": "No conference mapping was found", "conference": False},
    )
    status, body = _map(client, "conference=no-domain")
    assert status == 400 and body["conference"] is False


def test_the_phone_number_list_is_jitsis_array_format(jitsi: WebWorld, client: TestClient) -> None:
    answer = client.get(f"/jitsi/phoneNumberList?conference=Standup@{MUC}")
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    assert answer.json() == [
        {"countryCode": "US", "tollFree": False, "formattedNumber": "+1 425-555-0100", "default": True},
        {"countryCode": "US", "tollFree": True, "formattedNumber": "+1 800-555-0199", "default": False},
    ]
    missing = client.get("/jitsi/phoneNumberList")
    assert (missing.status_code, missing.json()) == (
        400,
        {"message": "No conference provided", "conference": False},
    )


def test_a_call_to_a_mapped_id_resolves_to_the_jitsi_room(jitsi: WebWorld, client: TestClient) -> None:
    _, mapped = _map(client, f"conference=Standup@{MUC}")
    found = dialin.lookup(
        jitsi.cli.uow(), number="+14255550100", digits=f"{mapped['id']}#", actor=Actor.operator()
    )
    assert (found.result, found.room, found.upn, found.reason) == (
        "join",
        f"standup@{MUC}",
        None,
        "participant",
    )


def test_over_the_room_cap_the_mapper_creates_no_room_and_existing_rooms_still_resolve(
    jitsi: WebWorld, client: TestClient
) -> None:
    jitsi.cli.ok("tenant", "set", "contoso", "--jitsi-max-rooms", "2")
    _, first = _map(client, f"conference=one@{MUC}")
    _, second = _map(client, f"conference=two@{MUC}")
    for room in ("three", "four", "three"):
        assert _map(client, f"conference={room}@{MUC}") == (
            404,
            {
                "message": "No conference mapping was found: this Jitsi deployment has reached its limit "
                "of dial-in rooms",
                "conference": False,
            },
        )
    assert _map(client, f"conference=One@{MUC}") == (200, first)  # mapped before the cap: still there
    assert _map(client, f"id={second['id']}") == (200, second)
    events = jitsi.cli.ok("audit", "list", "--tenant", "contoso", "--json")
    full = [e for e in events if e["action"] == "jitsi.rooms.full"]
    assert len(full) == 1  # one event for the whole episode, not one per refusal
    assert "2 rooms are mapped and the limit is 2" in full[0]["detail"]
    assert full[0]["actor"] == "jitsi conference mapper"


def test_raising_the_room_cap_ends_the_episode_and_the_next_one_is_audited_again(
    jitsi: WebWorld, client: TestClient
) -> None:
    jitsi.cli.ok("tenant", "set", "contoso", "--jitsi-max-rooms", "1")
    assert _map(client, f"conference=one@{MUC}")[0] == 200
    assert _map(client, f"conference=two@{MUC}")[0] == 404
    shown = jitsi.cli.ok("tenant", "set", "contoso", "--jitsi-max-rooms", "2", "--json")
    assert shown["jitsi_max_rooms"] == 2
    assert _map(client, f"conference=two@{MUC}")[0] == 200
    assert _map(client, f"conference=three@{MUC}")[0] == 404
    events = jitsi.cli.ok("audit", "list", "--tenant", "contoso", "--json")
    assert [e["action"] for e in events].count("jitsi.rooms.full") == 2


def test_the_room_cap_is_a_tenant_setting_of_the_cli_the_api_and_the_settings_page(
    jitsi: WebWorld, client: TestClient
) -> None:
    assert jitsi.cli.ok("tenant", "show", "contoso", "--json")["jitsi_max_rooms"] == 10_000  # the default
    token = sign_in(client, ADMIN)
    answer = client.patch(
        "/api/v1/tenants/contoso/settings", json={"jitsi_max_rooms": 250}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 200 and answer.json()["jitsi_max_rooms"] == 250
    too_many = client.patch(
        "/api/v1/tenants/contoso/settings", json={"jitsi_max_rooms": 2_000_000}, headers={"X-CSRF-Token": token}
    )
    assert too_many.status_code == 422
    page = client.get("/settings")
    assert "Jitsi rooms the public conference mapper may create" in page.text and ">250<" in page.text
