"""POST /api/v1/dialin/lookup for any PBX, and the pbx account kind that may do nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ENABLE_ADA
from tests.web.conftest import ADMIN, PASSWORD, WebWorld, signin_csrf

PBX = "pbx@contoso.com"
SEATTLE = "+14255550100"


@pytest.fixture
def ada(web_world: WebWorld) -> str:
    conference_id = web_world.cli.ok(*ENABLE_ADA)["conference_id"]
    assert isinstance(conference_id, str)
    return conference_id


def _token(web_world: WebWorld, email: str) -> dict[str, str]:
    token = web_world.cli.ok("--as", email, "token", "create", "--name", "pbx")["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pbx(web_world: WebWorld) -> dict[str, str]:
    web_world.cli.ok("admin", "create", PBX, "--tenant", "contoso", "--role", "pbx", stdin=PASSWORD + "\n")
    return _token(web_world, PBX)


def _lookup(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/dialin/lookup", headers=headers, json=body)


def _wrong(right: str) -> str:
    return ("2" if right[0] != "2" else "3") + right[1:]


def test_a_pbx_token_resolves_a_call_with_the_fields_of_the_cli(
    web_world: WebWorld, client: TestClient, pbx: dict[str, str], ada: str
) -> None:
    answer = _lookup(client, pbx, number="tel:+1-425-555-0100", digits=f"{ada[:3]} {ada[3:]}#", caller=None)
    assert answer.status_code == 200
    cli = web_world.cli.ok("dialin", "lookup", "--number", SEATTLE, "--digits", ada)
    assert (
        answer.json()
        == cli
        == {
            "result": "join",
            "reason": "participant",
            "upn": "ada@contoso.com",
            "meeting": None,
            "room": f"contoso-{ada}",
            "tenant": "contoso",
            "bridge": "main",
            "locked_until": None,
            "detail": None,
            "language": "en-US",
            "delay_seconds": 0,
        }
    )


def test_wrong_ids_over_http_lock_the_caller_out_as_calls_do(
    client: TestClient, pbx: dict[str, str], ada: str
) -> None:
    tries = [
        _lookup(client, pbx, number=SEATTLE, digits=_wrong(ada), caller="+12065550111") for _ in range(5)
    ]
    assert [t.json()["reason"] for t in tries] == ["that conference ID is not valid"] * 5
    assert tries[4].json()["locked_until"] is not None
    locked = _lookup(client, pbx, number=SEATTLE, digits=ada, caller="+12065550111").json()
    assert (locked["result"], locked["upn"], locked["room"]) == ("reject", None, None)
    assert locked["reason"] == "too many wrong conference IDs from this caller; try again later"
    other = _lookup(client, pbx, number=SEATTLE, digits=ada, caller="+12065550122").json()
    assert other["result"] == "join"


def test_a_pbx_account_of_one_tenant_cannot_resolve_another_tenants_numbers(
    web_world: WebWorld, client: TestClient, ada: str
) -> None:
    cli = web_world.cli
    cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    cli.ok(
        "admin", "create", "pbx@fabrikam.com", "--tenant", "fabrikam", "--role", "pbx", stdin=PASSWORD + "\n"
    )
    other = _token(web_world, "pbx@fabrikam.com")
    refused = _lookup(client, other, number=SEATTLE, digits=ada).json()
    assert (refused["result"], refused["tenant"], refused["upn"]) == ("reject", None, None)
    assert (
        refused["reason"] == f"{SEATTLE} is not a dial-in number of this service"
    )  # as for any unknown number


def test_a_pbx_account_without_a_tenant_resolves_for_all_tenants(
    web_world: WebWorld, client: TestClient, ada: str
) -> None:
    web_world.cli.ok("admin", "create", "pbx@example.org", "--role", "pbx", stdin=PASSWORD + "\n")
    assert (
        _lookup(client, _token(web_world, "pbx@example.org"), number=SEATTLE, digits=ada).json()["result"]
        == "join"
    )


def test_an_admin_token_may_not_resolve_calls(web_world: WebWorld, client: TestClient, ada: str) -> None:
    answer = _lookup(client, _token(web_world, ADMIN), number=SEATTLE, digits=ada)
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_missing_field_is_a_422_problem(client: TestClient, pbx: dict[str, str]) -> None:
    answer = _lookup(client, pbx, number=SEATTLE)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"


def test_only_the_operator_creates_pbx_accounts(web_world: WebWorld) -> None:
    refused = web_world.cli("--as", ADMIN, "admin", "create", "pbx2@contoso.com", "--tenant", "contoso",
                            "--role", "pbx", stdin=PASSWORD + "\n")  # fmt: skip
    assert refused.code == 1 and refused.err.startswith(
        "dialconf: only the operator may create a pbx account"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["user", "list", "--tenant", "contoso"],
        ["user", "show", "ada@contoso.com"],
        ["tenant", "set", "contoso", "--pin-length", "6"],
        ["user", "reset-pin", "ada@contoso.com"],
        ["audit", "list"],
        ["mail", "list"],
        ["mail", "show", "1"],
        ["tenant", "list"],
        ["tenant", "show", "contoso"],
        ["number", "list", "contoso"],
        ["bridge", "show", "contoso", "main"],
        ["admin", "create", "x@contoso.com", "--tenant", "contoso", "--role", "admin"],
    ],
)
def test_a_pbx_account_is_refused_everything_else_in_the_cli(
    web_world: WebWorld, pbx: dict[str, str], ada: str, command: list[str]
) -> None:
    refused = web_world.cli("--as", PBX, *command, stdin=PASSWORD + "\n")
    assert refused.code == 1 and len(refused.err.splitlines()) == 1, refused.err


def test_a_pbx_account_cannot_sign_in_to_the_admin_center(client: TestClient, pbx: dict[str, str]) -> None:
    answer = client.post("/signin", data={"email": PBX, "password": PASSWORD, "csrf": signin_csrf(client)})
    assert answer.status_code != 303
    assert client.get("/users").status_code == 303  # still signed out: back to /signin
