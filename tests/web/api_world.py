"""Two tenants for the API tests, seeded through the CLI on top of `web_world` (additive only).

    contoso    (web_world: bridge 'main', +14255550100 default, +18005550199 toll-free; ADMIN,
               HELPDESK) plus users ada and odd 'x[/y]@contoso.com' (builtin, static IDs; mails and
               audit events from their welcome)
    fabrikam   domain fabrikam.com, static IDs, bridge 'main' (+13125550100 default), user bob,
               admin account admin@fabrikam.com, a welcome mail and audit events of its own

Each tenant also has one scheduled meeting without attendees (facts `contoso_meeting`, of odd, and
`fabrikam_meeting`, of bob). `tokens` holds one bearer token per account (ADMIN, HELPDESK, OPERATOR, FABRIKAM_ADMIN) and
`revoked` a token of ADMIN that was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, PASSWORD, WebWorld

ADA = "ada@contoso.com"
ODD = "x[/y]@contoso.com"  # a sign-in name with '/' and brackets: sent URL-encoded in paths
BOB = "bob@fabrikam.com"
FABRIKAM_ADMIN = "admin@fabrikam.com"
CONTOSO_TOLL, CONTOSO_FREE = "+14255550100", "+18005550199"
FABRIKAM_TOLL = "+13125550100"
MEETING_START, MEETING_END = "2030-01-07T09:00", "2030-01-07T10:00"  # upcoming for years


@dataclass
class ApiWorld:
    web: WebWorld
    tokens: dict[str, str] = field(default_factory=dict)
    revoked: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def bearer(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[account]}"}


def _enable(cli: Any, upn: str, tenant: str) -> dict[str, Any]:
    result: dict[str, Any] = cli.ok(
        "user", "enable", upn, "--tenant", tenant, "--email", upn.replace("/", "-"), "--name", upn.split("@")[0]
    )
    return result


def seed_api_world(web: WebWorld) -> ApiWorld:
    cli = web.cli
    world = ApiWorld(web=web)
    world.facts["ada"] = _enable(cli, ADA, "contoso")
    world.facts["odd"] = _enable(cli, ODD, "contoso")
    cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    cli.ok("tenant", "set-id-mode", "fabrikam", "static")
    cli.ok("bridge", "create", "fabrikam", "main")
    cli.ok("number", "add", "fabrikam", FABRIKAM_TOLL, "--city", "Chicago")
    cli.ok("admin", "create", FABRIKAM_ADMIN, "--tenant", "fabrikam", "--role", "admin", stdin=PASSWORD + "\n")
    world.facts["bob"] = _enable(cli, BOB, "fabrikam")
    world.facts["fabrikam_mail"] = cli.ok("mail", "list", "--tenant", "fabrikam")[0]["id"]
    world.facts["contoso_mail"] = cli.ok("mail", "list", "--tenant", "contoso")[0]["id"]
    world.facts["fabrikam_audit"] = [e["id"] for e in cli.ok("audit", "list", "--tenant", "fabrikam")]
    for key, organizer in (("contoso_meeting", ODD), ("fabrikam_meeting", BOB)):
        world.facts[key] = cli.ok(
            "meeting", "schedule", "--organizer", organizer, "--subject", "Planning",
            "--start", MEETING_START, "--end", MEETING_END, "--timezone", "Europe/Paris",
        )["id"]  # fmt: skip
    for account in (ADMIN, HELPDESK, OPERATOR, FABRIKAM_ADMIN):
        world.tokens[account] = cli.ok("--as", account, "token", "create", "--name", "api-tests")["token"]
    revoked = cli.ok("--as", ADMIN, "token", "create", "--name", "revoked")
    cli.ok("--as", ADMIN, "token", "revoke", str(revoked["id"]))
    world.revoked = revoked["token"]
    return world
