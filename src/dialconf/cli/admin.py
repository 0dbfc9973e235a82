"""dialconf admin ..."""

from __future__ import annotations

import sys

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context, Option, prompt
from dialconf.cli.output import emit_json, say, show_table
from dialconf.errors import InvalidInput

NAME = "admin"
HELP = "Admin and helpdesk accounts of a tenant."
app = App(help=HELP)


@app.command("create")
def create(
    ctx: Context,
    email: str,
    tenant: str | None = Option(
        None,
        "--tenant",
        "-t",
        metavar="T",
        help="Tenant of an admin, helpdesk or pbx account (none for an operator).",
    ),
    role: str = Option(
        ...,
        "--role",
        metavar="admin|helpdesk|operator|pbx",
        help="admin: manages the tenant; helpdesk: looks up users, resets their IDs and PINs, resends their info; "
        "operator: runs the whole installation (no tenant; only the operator may create one); "
        "pbx: a phone system that only resolves calls, for --tenant's numbers or, without, all (operator only).",
    ),
    as_json: bool = JSON,
) -> None:
    """Create an account; the password is read from stdin (first line), never from the command line."""
    from dialconf.services import admins

    if sys.stdin.isatty():
        password = prompt("Password", hide_input=True, confirmation_prompt=True)
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
    if as_json:
        emit_json(view)
    else:
        say(f"created {view.role} account {view.email}" + (f" for tenant {view.tenant}" if view.tenant else ""))


@app.command("list")
def list_(
    ctx: Context,
    tenant: str = Option(..., "--tenant", "-t", metavar="T", help="Tenant name."),
    as_json: bool = JSON,
) -> None:
    """List the admin accounts of a tenant."""
    from dialconf.services import admins

    rt = runtime(ctx)
    views = admins.list_admins(rt.uow(), tenant=tenant, actor=rt.actor)
    if as_json:
        emit_json(views)
    else:
        show_table(
            ["email", "role"], [[v.email, v.role] for v in views], empty="no admin accounts", whole={"email"}
        )
