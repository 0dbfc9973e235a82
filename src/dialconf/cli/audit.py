"""dialconf audit ..."""

from __future__ import annotations

import json

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import show_list

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
    all_: bool = Option(
        False, "--all", help="Every matching event, printed as they are read (no --limit)."
    ),
    as_json: bool = JSON,
) -> None:
    """List audit events, newest first; says on stderr when more match than are shown."""
    from dialconf.services import audit as audit_service

    rt = runtime(ctx)
    uow, actor = rt.uow(), rt.actor
    show_list(
        audit_service.iter_audit(uow, actor=actor, tenant=tenant, target=target)
        if all_
        else audit_service.list_audit(uow, actor=actor, tenant=tenant, target=target, limit=limit),
        as_json=as_json,
        columns=["time", "tenant", "actor", "action", "target", "before", "after"],
        row=lambda v: [
            v.at.strftime("%Y-%m-%d %H:%M:%S"),
            v.tenant,
            v.actor,
            v.action,
            v.target,
            json.dumps(v.before) if v.before else (v.detail or ""),
            json.dumps(v.after) if v.after else "",
        ],
        empty="no audit events",
        whole={"actor", "action", "target"},
    )
