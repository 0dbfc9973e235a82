"""`dialconf tenant jitsi-rooms` / `jitsi-unmap`: a cap filled through the public mapper can be emptied again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dialconf.domain.roles import Actor
from dialconf.services import dialin
from tests.web.conftest import ADMIN, HELPDESK, WebWorld, sign_in

MUC = "conference.meet.contoso.com"


@pytest.fixture
def jitsi(web_world: WebWorld) -> WebWorld:
    web_world.cli.ok("tenant", "set", "contoso", "--jitsi-muc-domain", MUC, "--jitsi-max-rooms", "3")
    return web_world


def _map(client: TestClient, room: str) -> tuple[int, dict]:
    answer = client.get(f"/jitsi/conferenceMapper?conference={room}@{MUC}")
    return answer.status_code, answer.json()


def _lookup(world: WebWorld, digits: str) -> str:
    found = dialin.lookup(world.cli.uow(), number="+14255550100", digits=f"{digits}#", actor=Actor.operator())
    return found.result


def test_an_admin_lists_the_rooms_and_unmaps_those_an_abuser_made_freeing_the_cap(
    jitsi: WebWorld, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, standup = _map(client, "standup")
    assert _map(client, "spam1")[0] == 200 and _map(client, "spam2")[0] == 200
    assert _map(client, "spam3")[0] == 404  # the cap of 3 is full
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    rooms = jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")
    assert [r["room"] for r in rooms] == [f"spam2@{MUC}", f"spam1@{MUC}", f"standup@{MUC}"]  # newest first
    assert all(r["live"] for r in rooms)
    spam1 = rooms[1]["conference_id"]

    unmapped = jitsi.cli.ok(
        "tenant", "jitsi-unmap", "contoso", "--room", f"Spam1@{MUC}", "--room", f"spam2@{MUC}"
    )
    assert unmapped == {"unmapped": [f"spam1@{MUC}", f"spam2@{MUC}"]}
    assert [r["room"] for r in jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")] == [f"standup@{MUC}"]
    assert _lookup(jitsi, spam1) == "reject"  # the ID is quarantined, not handed to the next room
    assert _lookup(jitsi, standup["id"]) == "join"  # the room kept was left alone
    status, spam3 = _map(client, "spam3")  # places under the cap are free again
    assert status == 200 and spam3["id"] != spam1
    events = jitsi.cli.ok("audit", "list", "--tenant", "contoso")
    (event,) = [e for e in events if e["action"] == "jitsi.rooms.unmap"]
    assert event["actor"] == ADMIN and "2 rooms unmapped" in event["detail"]


def test_created_since_unmaps_every_room_made_from_then_on(jitsi: WebWorld, client: TestClient) -> None:
    _map(client, "standup")
    made = jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")[0]["created_at"]
    _map(client, "later")
    later = jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")[0]["created_at"]
    if later == made:  # the same clock reading: nothing to tell them apart by
        pytest.fail("two rooms mapped one after the other got the same time")
    answer = jitsi.cli.ok("tenant", "jitsi-unmap", "contoso", "--created-since", later)
    assert answer == {"unmapped": [f"later@{MUC}"]}
    assert [r["room"] for r in jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")] == [f"standup@{MUC}"]


def test_bad_requests_change_nothing_and_helpdesk_and_other_tenants_are_refused(
    jitsi: WebWorld, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _map(client, "standup")
    nothing = jitsi.cli("tenant", "jitsi-unmap", "contoso")
    assert nothing.code != 0 and "name the rooms to unmap, or give --created-since" in nothing.err
    unknown = jitsi.cli(
        "tenant", "jitsi-unmap", "contoso", "--room", f"standup@{MUC}", "--room", f"ghost@{MUC}"
    )
    assert unknown.code != 0 and f"no mapped Jitsi room ghost@{MUC}" in unknown.err
    bad_time = jitsi.cli("tenant", "jitsi-unmap", "contoso", "--created-since", "yesterday")
    assert bad_time.code != 0 and "--created-since must be an ISO 8601 time" in bad_time.err
    not_a_room = jitsi.cli("tenant", "jitsi-unmap", "contoso", "--room", "standup")
    assert not_a_room.code != 0 and "room@conference.example.org" in not_a_room.err
    assert len(jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")) == 1
    jitsi.cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")

    monkeypatch.setenv("DIALCONF_ACTOR", HELPDESK)
    assert len(jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")) == 1  # helpdesk may look
    refused = jitsi.cli("tenant", "jitsi-unmap", "contoso", "--room", f"standup@{MUC}")
    assert refused.code != 0
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    for command in (
        ("jitsi-rooms", "fabrikam"),
        ("jitsi-unmap", "fabrikam", "--created-since", "2020-01-01"),
    ):
        other = jitsi.cli("tenant", *command)
        assert other.code != 0 and "'fabrikam' does not exist" in other.err
    assert len(jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")) == 1


def test_the_api_lists_and_unmaps_the_same_rooms_with_the_clis_answers(
    jitsi: WebWorld, client: TestClient
) -> None:
    for room in ("standup", "spam1", "spam2"):
        _map(client, room)
    token = jitsi.cli.ok("--as", ADMIN, "token", "create")["token"]
    h = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/tenants/contoso/jitsi-rooms", headers=h)
    assert listed.status_code == 200
    assert listed.json() == jitsi.cli.ok("--as", ADMIN, "tenant", "jitsi-rooms", "contoso")

    unknown = client.post(
        "/api/v1/tenants/contoso/jitsi-rooms/unmap",
        json={"rooms": [f"spam1@{MUC}", f"ghost@{MUC}"]},
        headers=h,
    )
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert f"ghost@{MUC}" in unknown.json()["detail"]
    empty = client.post("/api/v1/tenants/contoso/jitsi-rooms/unmap", json={}, headers=h)
    assert empty.status_code == 422 and "name the rooms to unmap" in empty.json()["detail"]
    assert len(client.get("/api/v1/tenants/contoso/jitsi-rooms", headers=h).json()) == 3  # nothing unmapped

    done = client.post(
        "/api/v1/tenants/contoso/jitsi-rooms/unmap",
        json={"rooms": [f"spam1@{MUC}", f"SPAM2@{MUC}"]},
        headers=h,
    )
    assert done.status_code == 200 and done.json() == {"unmapped": [f"spam1@{MUC}", f"spam2@{MUC}"]}
    assert [r["room"] for r in client.get("/api/v1/tenants/contoso/jitsi-rooms", headers=h).json()] == [
        f"standup@{MUC}"
    ]


def test_the_settings_page_lists_the_rooms_and_an_admin_unmaps_them_there(
    jitsi: WebWorld, client: TestClient
) -> None:
    for room in ("standup", "spam1", "spam2"):
        _map(client, room)
    csrf = sign_in(client, ADMIN)
    page = client.get("/settings").text
    assert page.index(f"spam2@{MUC}") < page.index(f"spam1@{MUC}") < page.index(f"standup@{MUC}")

    one = client.post(
        "/settings/jitsi-unmap", data={"csrf": csrf, "tenant": "contoso", "room": f"standup@{MUC}"}
    )
    assert one.status_code == 303
    assert "1 Jitsi room(s) unmapped" in client.get(one.headers["location"]).text
    assert [r["room"] for r in jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")] == [
        f"spam2@{MUC}",
        f"spam1@{MUC}",
    ]

    bad = client.post(
        "/settings/jitsi-unmap", data={"csrf": csrf, "tenant": "contoso", "jitsi_since": "soon"}
    )
    assert bad.status_code == 422 and 'id="e-jitsi_since"' in bad.text
    since = jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")[1]["created_at"][
        :19
    ]  # spam1's time, to the second
    both = client.post(
        "/settings/jitsi-unmap", data={"csrf": csrf, "tenant": "contoso", "jitsi_since": since}
    )
    assert both.status_code == 303 and "count=2" in both.headers["location"]
    assert jitsi.cli.ok("tenant", "jitsi-rooms", "contoso") == []
    assert "No room mapped yet" in client.get("/settings").text


def test_the_pages_unmap_needs_the_csrf_token_and_an_admin_of_the_tenant(
    jitsi: WebWorld, client: TestClient
) -> None:
    _map(client, "standup")
    jitsi.cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    form = {"tenant": "contoso", "room": f"standup@{MUC}"}
    csrf = sign_in(client, ADMIN)
    assert client.post("/settings/jitsi-unmap", data=form).status_code == 403  # no CSRF token
    other = {"csrf": csrf, "tenant": "fabrikam", "jitsi_since": "2020-01-01T00:00"}
    assert client.post("/settings/jitsi-unmap", data=other).status_code == 404
    client.post("/signout", data={"csrf": csrf})
    csrf = sign_in(client, HELPDESK)
    assert client.post("/settings/jitsi-unmap", data={"csrf": csrf, **form}).status_code == 403
    assert len(jitsi.cli.ok("tenant", "jitsi-rooms", "contoso")) == 1
