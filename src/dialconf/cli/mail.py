"""dialconf mail ..."""

from __future__ import annotations

import typer

from dialconf.cli.common import JSON, runtime
from dialconf.cli.output import emit_json, show_record, show_table
from dialconf.errors import InvalidInput
from dialconf.services import outbox

NAME = "mail"
HELP = "The outbox: emails queued, sent and failed."
app = typer.Typer(no_args_is_help=True)
STATUSES = ("queued", "sent", "failed")


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", "-t", metavar="T"),
    status: str | None = typer.Option(None, "--status", metavar="queued|sent|failed"),
    limit: int = typer.Option(200, "--limit", min=1, max=100000),
    as_json: bool = JSON,
) -> None:
    """List emails, newest first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be queued, sent or failed, not '{status}'")
    rt = runtime(ctx)
    views = outbox.list_mail(rt.uow(), actor=rt.actor, tenant=tenant, status=status, limit=limit)
    if as_json:
        emit_json(views)
        return
    show_table(
        [
            "id",
            "status",
            "kind",
            "to",
            "subject",
            "created",
            "why it failed" if status == "failed" else "last error",
        ],
        [
            [v.id, v.status, v.kind, v.to, v.subject, v.created_at.strftime("%Y-%m-%d %H:%M"), v.last_error]
            for v in views
        ],
        empty="no mail",
    )


@app.command("show")
def show(ctx: typer.Context, mail_id: int = typer.Argument(..., metavar="ID"), as_json: bool = JSON) -> None:
    """Show one email with its text."""
    rt = runtime(ctx)
    view = outbox.show_mail(rt.uow(), mail_id=mail_id, actor=rt.actor)
    if as_json:
        data = view.to_dict()
        emit_json(data)
        return
    show_record(
        f"Mail {view.id}",
        [
            ("status", view.status),
            ("kind", view.kind),
            ("from", view.from_),
            ("to", view.to),
            ("subject", view.subject),
            ("message id", view.message_id),
            ("attempts", view.attempts),
            ("last error", view.last_error),
        ],
    )
    print()
    print(view.body_text)
