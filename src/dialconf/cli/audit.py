"""dialconf audit ..."""

from __future__ import annotations

import json

import typer

from dialconf.cli.common import JSON, runtime
from dialconf.cli.output import emit_json, show_table
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
    as_json: bool = JSON,
) -> None:
    """List audit events, newest first."""
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
