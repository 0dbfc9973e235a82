"""dialconf admin ..."""

from __future__ import annotations

import sys

import typer

from dialconf.cli.common import JSON, runtime
from dialconf.cli.output import emit_json, say, show_table
from dialconf.errors import InvalidInput
from dialconf.services import admins

NAME = "admin"
HELP = "Admin and helpdesk accounts of a tenant."
app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    email: str,
    tenant: str = typer.Option(..., "--tenant", "-t", metavar="T"),
    role: str = typer.Option(..., "--role", metavar="admin|helpdesk"),
    as_json: bool = JSON,
) -> None:
    """Create an account; the password is read from stdin (first line), never from the command line."""
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput(
            "no password on stdin; pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | dialconf admin create ..."
        )
    rt = runtime(ctx)
    view = admins.create_admin(
        rt.uow(), email=email, tenant=tenant, role=role, password=password, actor=rt.actor
    )
    emit_json(view) if as_json else say(f"created {view.role} account {view.email} for tenant {view.tenant}")


@app.command("list")
def list_(
    ctx: typer.Context, tenant: str = typer.Option(..., "--tenant", "-t", metavar="T"), as_json: bool = JSON
) -> None:
    """List the admin accounts of a tenant."""
    rt = runtime(ctx)
    views = admins.list_admins(rt.uow(), tenant=tenant, actor=rt.actor)
    if as_json:
        emit_json(views)
    else:
        show_table(
            ["email", "role"], [[v.email, v.role] for v in views], empty="no admin accounts", whole={"email"}
        )
