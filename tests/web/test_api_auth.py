"""The REST API's credentials: bearer tokens made with `dialconf token`, or the session cookie plus CSRF header."""

from __future__ import annotations

import subprocess
import sys

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from dialconf.web.auth import CurrentActor
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld, sign_in


def _token(web_world: WebWorld, email: str, name: str = "ci") -> dict[str, object]:
    created: dict[str, object] = web_world.cli.ok("--as", email, "token", "create", "--name", name)
    return created


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_made_on_the_command_line_answers_me_with_its_account(
    client: TestClient, web_world: WebWorld
) -> None:
    created = _token(web_world, ADMIN)
    assert set(created) == {"token", "id", "name"} and created["name"] == "ci"
    answer = client.get("/api/v1/me", headers=_bearer(created["token"]))
    assert answer.status_code == 200
    assert answer.json() == {"name": ADMIN, "role": "admin", "tenant": "contoso"}


def test_an_operator_account_has_no_tenant(client: TestClient, web_world: WebWorld) -> None:
    created = _token(web_world, OPERATOR)
    assert client.get("/api/v1/me", headers=_bearer(created["token"])).json() == {
        "name": OPERATOR,
        "role": "operator",
        "tenant": None,
    }


def test_no_credentials_is_a_401_problem(client: TestClient) -> None:
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"
    body = answer.json()
    assert body["type"] == "/errors/not-signed-in" and body["status"] == 401 and body["title"]


def test_an_unknown_token_is_a_401_problem(client: TestClient) -> None:
    answer = client.get("/api/v1/me", headers=_bearer("dct_not-a-real-token"))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "unknown or revoked API token"


def test_a_revoked_token_is_a_401_problem(client: TestClient, web_world: WebWorld) -> None:
    created = _token(web_world, ADMIN)
    assert client.get("/api/v1/me", headers=_bearer(created["token"])).status_code == 200
    revoked = web_world.cli.ok("--as", ADMIN, "token", "revoke", str(created["id"]))
    assert revoked["revoked_at"]
    answer = client.get("/api/v1/me", headers=_bearer(created["token"]))
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"


def test_token_list_shows_own_tokens_without_the_secret(web_world: WebWorld) -> None:
    first = _token(web_world, ADMIN, "first")
    _token(web_world, HELPDESK, "theirs")
    listed = web_world.cli.ok("--as", ADMIN, "token", "list")
    assert [t["name"] for t in listed] == ["first"]
    assert str(first["token"]) not in str(listed)
    assert listed[0]["last_used_at"] is None and listed[0]["revoked_at"] is None


def test_the_token_is_stored_only_as_a_hash(web_world: WebWorld) -> None:
    from sqlalchemy import select

    from dialconf.store.models import ApiToken

    created = _token(web_world, ADMIN)
    with web_world.cli.uow() as uow:
        stored = list(uow.session.scalars(select(ApiToken.token_hash)))
    assert stored and str(created["token"]) not in stored[0]


def test_an_admin_cannot_revoke_another_accounts_token_and_is_told_it_does_not_exist(
    web_world: WebWorld,
) -> None:
    theirs = _token(web_world, HELPDESK)
    refused = web_world.cli("--as", ADMIN, "token", "revoke", str(theirs["id"]))
    assert refused.code == 1
    assert refused.err == f"dialconf: API token {theirs['id']} does not exist\n"
    # the operator may revoke any
    assert web_world.cli.ok("token", "revoke", str(theirs["id"]))["account"] == HELPDESK


def test_the_implicit_cli_operator_cannot_make_a_token(web_world: WebWorld) -> None:
    refused = web_world.cli("token", "create")
    assert refused.code == 1
    assert refused.err == "dialconf: a token belongs to an account: use --as EMAIL\n"


def test_token_create_prints_the_token_once_in_plain_text(web_world: WebWorld) -> None:
    result = web_world.cli("--as", ADMIN, "token", "create", "--name", "laptop")
    assert result.code == 0 and "dct_" in result.out and "not shown again" in result.out


def test_the_session_cookie_works_for_reads_and_needs_the_csrf_header_for_writes(
    app: FastAPI, client: TestClient, web_world: WebWorld
) -> None:
    # a state-changing route written the way the API's routers are
    extra = APIRouter()

    @extra.post("/api/v1/test-echo")
    def echo(actor: CurrentActor) -> dict[str, str]:
        return {"name": actor.name}

    app.include_router(extra)
    csrf = sign_in(client, ADMIN)
    assert client.get("/api/v1/me").json()["name"] == ADMIN
    refused = client.post("/api/v1/test-echo")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/test-echo", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/v1/test-echo", headers={"X-CSRF-Token": csrf}).json() == {"name": ADMIN}
    # a bearer token is no browser: no CSRF header is needed
    token = _token(web_world, HELPDESK)["token"]
    client.cookies.clear()
    assert client.post("/api/v1/test-echo", headers=_bearer(token)).json() == {"name": HELPDESK}


def test_unknown_api_paths_and_bad_input_are_problems_too(client: TestClient) -> None:
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"


def test_the_openapi_schema_lists_me_and_docs_is_a_page_of_this_site(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/me" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/v1/me" in docs.text and "/openapi.json" in docs.text
    assert "cdn" not in docs.text.lower()


def test_importing_the_cli_loads_no_web_framework() -> None:
    code = "import sys, dialconf.cli.app; print(sorted(m for m in ('fastapi', 'pydantic', 'uvicorn', 'starlette') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_method_a_path_does_not_offer_is_a_405_problem_with_the_allow_header(client: TestClient) -> None:
    answer = client.request("TRACE", "/api/v1/me")
    assert answer.status_code == 405 and answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "GET"
