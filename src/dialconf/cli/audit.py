"""dialconf audit ..."""

from __future__ import annotations

import json

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import emit_json, show_table

NAME = "audit"
HELP = "Read the audit log: who changed what, when."
app = App(help=HELP)


@app.command("list")
def list_(
    ctx: Context,
    tenant: str | None = Option(None, "--tenant", "-t", metavar="T", help="Only this tenant's events."),
    target: str | None = Option(
        None, "--target", metavar="UPN", help="Only events about this user or object."
    ),
    limit: int = Option(500, "--limit", min=1, max=100000, help="At most N events."),
    as_json: bool = JSON,
) -> None:
    """List audit events, newest first."""
    from dialconf.services import audit as audit_service

    rt = runtime(ctx)
    views = audit_service.list_audit(rt.uow(), actor=rt.actor, tenant=tenant, target=target, limit=limit)
    if as_json:
        emit_json(views)
        return
    show_table(
        ["time", "tenant", "actor", "action", "target", "before", "after"],
        [
            [
                v.at.strftime("%Y-%m-%d %H:%M:%S"),
                v.tenant,
                v.actor,
                v.action,
                v.target,
                json.dumps(v.before) if v.before else (v.detail or ""),
                json.dumps(v.after) if v.after else "",
            ]
            for v in views
        ],
        empty="no audit events",
    )
