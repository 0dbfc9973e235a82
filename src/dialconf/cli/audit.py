"""dialconf audit ..."""

from __future__ import annotations

import json

import typer

from dialconf.cli.common import JSON, runtime
from dialconf.cli.output import show_list
from dialconf.services import audit as audit_service

NAME = "audit"
HELP = "Read the audit log: who changed what, when."
app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", "-t", metavar="T"),
    target: str | None = typer.Option(
        None, "--target", metavar="UPN", help="Only events about this user or object."
    ),
    limit: int = typer.Option(500, "--limit", min=1, max=100000),
    all_: bool = typer.Option(
        False, "--all", help="Every matching event, printed as they are read (no --limit)."
    ),
    as_json: bool = JSON,
) -> None:
    """List audit events, newest first; says on stderr when more match than are shown."""
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
