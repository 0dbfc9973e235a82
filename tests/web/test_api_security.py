"""Every API route, classified: who may call it, and what another tenant's admin learns from it.

The table below names each route of /api/v1 once, with the least role that may call it and how to
aim it at a tenant's objects. `app.routes` is walked, so a route added without a row here fails
`test_every_api_route_is_classified`. Then, for every route:

- contoso's admin aimed at fabrikam's tenant, user, number or mail gets 404 (403 on an operator-only
  route, where the role is refused before any name is looked at), and exactly the answer a name
  nobody holds gets; list routes show none of fabrikam's objects; nothing changes;
- helpdesk gets 403 on every admin-only and operator-only route, and no 403 on the others;
- no credentials, an unknown token and a revoked token get 401 problem+json everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.api_world import (
    BOB,
    CONTOSO_FREE,
    FABRIKAM_ADMIN,
    FABRIKAM_TOLL,
    ODD,
    ApiWorld,
    seed_api_world,
)
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld

HELPDESK_MAY, ADMIN_ONLY, OPERATOR_ONLY = "helpdesk", "admin", "operator"


@dataclass(frozen=True)
class Names:
    """The names a request is aimed at."""

    tenant: str
    upn: str
    number: str
    mail: int
    domain: str
    meeting: int


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in app.routes
    role: str  # the least role that may call it
    # query string and JSON body for these names (path parameters are filled from the names)
    request: Callable[[Names], tuple[str, Any]]
    # which isolation checks apply: a tenant named in the request, and/or an object named inside
    # the caller's own tenant; a route with neither says why in `alone`
    names_tenant: bool = True
    names_object: bool = False
    alone: str = ""


def _none(n: Names) -> tuple[str, Any]:
    return "", None


def _q(**params: str) -> Callable[[Names], tuple[str, Any]]:
    return lambda n: ("?" + "&".join(f"{k}={quote(v.format(n=n), safe='')}" for k, v in params.items()), None)


def _body(**fields: Any) -> Callable[[Names], tuple[str, Any]]:
    return lambda n: ("", {k: (v.format(n=n) if isinstance(v, str) else v) for k, v in fields.items()})


ROUTES = [
    Route("GET", "/api/v1/me", HELPDESK_MAY, _none, names_tenant=False, alone="only about the caller"),
    Route(
        "POST",
        "/api/v1/dialin/lookup",
        OPERATOR_ONLY,
        _body(number="+13125550100", digits="1234567"),
        names_tenant=False,
        alone="resolves calls (operator and pbx accounts): pbx scoping in test_api_dialin.py",
    ),
    Route("GET", "/api/v1/tenants", HELPDESK_MAY, _none, names_tenant=False, alone="list: checked apart"),
    Route(
        "POST",
        "/api/v1/tenants",
        OPERATOR_ONLY,
        _body(name="newco", domains=["newco.com"]),
        names_tenant=False,
        alone="creates a tenant: names none that exists",
    ),
    Route("GET", "/api/v1/tenants/{tenant}", HELPDESK_MAY, _none),
    Route("GET", "/api/v1/tenants/{tenant}/settings", HELPDESK_MAY, _none),
    Route("PATCH", "/api/v1/tenants/{tenant}/settings", ADMIN_ONLY, _body(auto_email=False)),
    Route("PUT", "/api/v1/tenants/{tenant}/conference-id-mode", OPERATOR_ONLY, _body(mode="dynamic")),
    Route("POST", "/api/v1/tenants/{tenant}/domains", OPERATOR_ONLY, _body(domain="{n.tenant}.net")),
    Route("DELETE", "/api/v1/tenants/{tenant}/domains/{domain}", OPERATOR_ONLY, _none),
    Route("GET", "/api/v1/tenants/{tenant}/bridges", HELPDESK_MAY, _none),
    Route("GET", "/api/v1/tenants/{tenant}/bridges/{bridge}", HELPDESK_MAY, _none),
    Route("POST", "/api/v1/tenants/{tenant}/bridges", OPERATOR_ONLY, _body(name="extra")),
    Route("GET", "/api/v1/tenants/{tenant}/numbers", HELPDESK_MAY, _none),
    Route("POST", "/api/v1/tenants/{tenant}/numbers", OPERATOR_ONLY, _body(number="+13125550122")),
    Route("GET", "/api/v1/tenants/{tenant}/jitsi-rooms", HELPDESK_MAY, _none),
    Route(
        "POST",
        "/api/v1/tenants/{tenant}/jitsi-rooms/unmap",
        ADMIN_ONLY,
        _body(created_since="2020-01-01T00:00:00Z"),
    ),
    Route("DELETE", "/api/v1/tenants/{tenant}/numbers/{number}", ADMIN_ONLY, _none, names_object=True),
    Route("PUT", "/api/v1/tenants/{tenant}/numbers/{number}/default", ADMIN_ONLY, _none, names_object=True),
    Route(
        "GET",
        "/api/v1/users",
        HELPDESK_MAY,
        _q(tenant="{n.tenant}", search="{n.upn}"),
        names_object=True,
    ),
    Route(
        "POST",
        "/api/v1/users",
        ADMIN_ONLY,
        _body(upn="new-{n.upn}", tenant="{n.tenant}", email="{n.upn}", name="New One"),
        names_object=True,
    ),
    Route("GET", "/api/v1/users/{upn:user_only}", HELPDESK_MAY, _none, names_tenant=False, names_object=True),
    Route(
        "POST",
        "/api/v1/users/{upn:path}/disable",
        ADMIN_ONLY,
        _body(email=False),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "POST",
        "/api/v1/users/{upn:path}/conference-id/reset",
        HELPDESK_MAY,
        _body(email=False),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "PUT",
        "/api/v1/users/{upn:path}/conference-id",
        ADMIN_ONLY,
        _body(conference_id="2357913"),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "POST",
        "/api/v1/users/{upn:path}/pin/reset",
        HELPDESK_MAY,
        _body(email=False),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "POST",
        "/api/v1/users/{upn:path}/conference-info/send",
        HELPDESK_MAY,
        _none,
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "PUT",
        "/api/v1/users/{upn:path}/acp",
        ADMIN_ONLY,
        _body(provider_name="Acme", toll_number="+14255550999", participant_passcode="123456"),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "PUT",
        "/api/v1/users/{upn:path}/default-numbers",
        ADMIN_ONLY,
        _body(toll="{n.number}"),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "GET",
        "/api/v1/meetings",
        HELPDESK_MAY,
        _q(tenant="{n.tenant}", organizer="{n.upn}", upcoming="true"),
        names_object=True,
    ),
    Route(
        "POST",
        "/api/v1/meetings",
        ADMIN_ONLY,
        _body(organizer="{n.upn}", subject="Sync", start="2030-02-04T09:00", end="2030-02-04T10:00"),
        names_tenant=False,
        names_object=True,
    ),
    Route("GET", "/api/v1/meetings/{meeting_id}", HELPDESK_MAY, _none, names_tenant=False, names_object=True),
    Route(
        "POST", "/api/v1/meetings/{meeting_id}/cancel", ADMIN_ONLY, _none, names_tenant=False, names_object=True
    ),
    Route(
        "POST",
        "/api/v1/users/{upn:path}/meetings/migrate",
        ADMIN_ONLY,
        _none,
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "GET",
        "/api/v1/meeting-migrations",
        HELPDESK_MAY,
        _q(upn="{n.upn}", state="pending"),
        names_tenant=False,
        names_object=True,
    ),
    Route(
        "GET", "/api/v1/meeting-migrations/summary", HELPDESK_MAY, _q(upn="{n.upn}"), names_tenant=False, names_object=True
    ),
    Route("GET", "/api/v1/audit", HELPDESK_MAY, _q(tenant="{n.tenant}", target="{n.upn}"), names_object=True),
    Route("GET", "/api/v1/mail", HELPDESK_MAY, _q(tenant="{n.tenant}")),
    Route("GET", "/api/v1/mail/{mail_id}", HELPDESK_MAY, _none, names_tenant=False, names_object=True),
    Route("POST", "/api/v1/mail/{mail_id}/retry", HELPDESK_MAY, _none, names_tenant=False, names_object=True),
]
IDS = [f"{r.method} {r.path}" for r in ROUTES]


def _url(route: Route, names: Names) -> tuple[str, Any]:
    path = (
        route.path.replace("{tenant}", quote(names.tenant, safe=""))
        .replace("{upn:path}", quote(names.upn, safe="@"))
        .replace("{upn:user_only}", quote(names.upn, safe="@"))
        .replace("{number}", quote(names.number, safe=""))
        .replace("{mail_id}", str(names.mail))
        .replace("{meeting_id}", str(names.meeting))
        .replace("{domain}", quote(names.domain, safe=""))
        .replace("{bridge}", "main")
    )
    query, body = route.request(names)
    return path + query, body


def _call(client: TestClient, route: Route, names: Names, headers: dict[str, str]) -> Any:
    url, body = _url(route, names)
    return client.request(route.method, url, json=body, headers=headers)


@pytest.fixture
def world(web_world: WebWorld) -> ApiWorld:
    return seed_api_world(web_world)


def _own(world: ApiWorld) -> Names:
    return Names("contoso", ODD, CONTOSO_FREE, world.facts["contoso_mail"], "contoso.com", world.facts["contoso_meeting"])


def _fabrikams(world: ApiWorld, *, in_own_tenant: bool = False) -> Names:
    tenant = "contoso" if in_own_tenant else "fabrikam"
    return Names(
        tenant, BOB, FABRIKAM_TOLL, world.facts["fabrikam_mail"], "fabrikam.com", world.facts["fabrikam_meeting"]
    )


def _nobodys(world: ApiWorld, *, in_own_tenant: bool = False) -> Names:
    tenant = "contoso" if in_own_tenant else "ghosttown"
    return Names(
        tenant,
        "ghost@fabrikam.com",
        "+13125550111",
        world.facts["fabrikam_mail"] + 10**6,
        "ghost.com",
        world.facts["fabrikam_meeting"] + 10**6,
    )


def _same_place(text: str, names: Names) -> str:
    """The answer with the names it was aimed at put in one place, to compare two answers word for word."""
    values = {names.tenant, names.upn, names.number, str(names.mail), names.domain, str(names.meeting)} - {"contoso"}
    for value in sorted(values, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "<NAME>", text)
    return text


def _state(client: TestClient, world: ApiWorld) -> Any:
    """What the operator sees of the whole installation: any change shows up here."""
    h = world.bearer(OPERATOR)
    return [
        client.get(url, headers=h).json()
        for url in (
            "/api/v1/audit?limit=1000",
            "/api/v1/mail?limit=1000",
            "/api/v1/tenants",
            "/api/v1/users?tenant=fabrikam",
            "/api/v1/users?tenant=contoso",
            "/api/v1/tenants/fabrikam/bridges",
            "/api/v1/meetings?tenant=fabrikam&cancelled=true",
            "/api/v1/meetings?tenant=contoso&cancelled=true",
            "/api/v1/meeting-migrations",
        )
    ]


def served_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, also inside included routers."""
    for route in app.routes:
        # FastAPI 0.16x keeps an included router as one entry that lists its routes on demand
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                for method in getattr(context.original_route, "methods", None) or ():
                    yield method, context.path
        elif isinstance(route, APIRoute):
            for method in route.methods:
                yield method, route.path


def test_every_api_route_is_classified(app: FastAPI) -> None:
    served = {f"{method} {path}" for method, path in served_routes(app) if path.startswith("/api/")}
    assert len(served) > 20
    assert served == set(IDS), f"unclassified: {sorted(served - set(IDS))}; gone: {sorted(set(IDS) - served)}"
    assert len(IDS) == len(set(IDS))
    for route in ROUTES:
        assert route.names_tenant or route.names_object or route.alone, route


def test_a_tenant_admin_gets_404_for_everything_of_another_tenant_exactly_as_for_names_nobody_holds(
    client: TestClient, world: ApiWorld
) -> None:
    before = _state(client, world)
    bob_id = world.facts["bob"]["conference_id"]
    failures = []
    checks = [(r, False) for r in ROUTES if r.names_tenant] + [(r, True) for r in ROUTES if r.names_object]
    for route, in_own_tenant in checks:
        real_names = _fabrikams(world, in_own_tenant=in_own_tenant)
        ghost_names = _nobodys(world, in_own_tenant=in_own_tenant)
        real = _call(client, route, real_names, world.bearer(ADMIN))
        ghost = _call(client, route, ghost_names, world.bearer(ADMIN))
        where = f"{route.method} {route.path} ({'inside contoso' if in_own_tenant else 'in fabrikam'})"
        if not in_own_tenant:
            # an operator-only route may refuse the role before it looks at any name
            expected = (403, 404) if route.role == OPERATOR_ONLY else (404,)
            if real.status_code not in expected:
                failures.append(f"{where}: {real.status_code} {real.text}, expected {expected}")
        if real.status_code != ghost.status_code or _same_place(real.text, real_names) != _same_place(
            ghost.text, ghost_names
        ):
            failures.append(f"{where}: fabrikam's {real.status_code} {real.text} != nobody's {ghost.status_code} {ghost.text}")
        for secret in ("Chicago", "312-555", bob_id, FABRIKAM_ADMIN):
            if secret in real.text:
                failures.append(f"{where}: {secret!r} leaked: {real.text}")
    assert not failures, "\n".join(failures)
    assert _state(client, world) == before


def test_lists_show_a_tenant_admin_nothing_of_another_tenant(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    assert [t["name"] for t in client.get("/api/v1/tenants", headers=h).json()] == ["contoso"]
    audit = client.get("/api/v1/audit?limit=1000", headers=h).json()["items"]
    assert audit and {e["tenant"] for e in audit} == {"contoso"}
    assert not {e["id"] for e in audit} & set(world.facts["fabrikam_audit"])
    assert client.get(f"/api/v1/audit?target={BOB}", headers=h).json()["items"] == []
    mail = client.get("/api/v1/mail?limit=1000", headers=h).json()["items"]
    assert mail and {m["tenant"] for m in mail} == {"contoso"}
    assert world.facts["fabrikam_mail"] not in {m["id"] for m in mail}
    # fabrikam's admin sees its own, so the seeded objects are real
    theirs = client.get("/api/v1/audit?limit=1000", headers=world.bearer(FABRIKAM_ADMIN)).json()["items"]
    assert {e["id"] for e in theirs} >= set(world.facts["fabrikam_audit"])


def test_helpdesk_gets_403_on_every_route_above_it_and_never_on_its_own(client: TestClient, world: ApiWorld) -> None:
    failures = []
    for route in ROUTES:
        answer = _call(client, route, _own(world), world.bearer(HELPDESK))
        refused = answer.status_code == 403
        if route.role != HELPDESK_MAY and not (refused and answer.json()["type"] == "/errors/forbidden"):
            failures.append(f"{route.method} {route.path}: {answer.status_code} {answer.text}")
        if route.role == HELPDESK_MAY and answer.status_code in (401, 403):
            failures.append(f"{route.method} {route.path} refused to helpdesk: {answer.text}")
    assert not failures, "\n".join(failures)


def test_a_tenant_admin_gets_403_on_every_operator_only_route_of_its_own_tenant(
    client: TestClient, world: ApiWorld
) -> None:
    for route in ROUTES:
        answer = _call(client, route, _own(world), world.bearer(ADMIN))
        if route.role == OPERATOR_ONLY:
            assert answer.status_code == 403, (route, answer.text)
        else:
            assert answer.status_code not in (401, 403), (route, answer.text)


@pytest.mark.parametrize("credentials", ["none", "unknown", "revoked", "malformed"])
def test_missing_unknown_and_revoked_credentials_get_401_on_every_route(
    client: TestClient, world: ApiWorld, credentials: str
) -> None:
    headers = {
        "none": {},
        "unknown": {"Authorization": "Bearer dct_not-a-token-anyone-holds"},
        "revoked": {"Authorization": f"Bearer {world.revoked}"},
        "malformed": {"Authorization": "Basic YWRtaW46eA=="},
    }[credentials]
    before = _state(client, world)
    for route in ROUTES:
        answer = _call(client, route, _own(world), headers)
        assert answer.status_code == 401, (route, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/errors/not-signed-in"
    assert _state(client, world) == before
