"""dialconf mail ..."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import emit_json, note_truncated, say, show_list, show_record
from dialconf.cli.worker import BATCH, FIRST_RETRY, LEASE, MAX_ATTEMPTS, make_policy, require_smtp
from dialconf.domain.roles import Permission
from dialconf.errors import InvalidInput, MailNotFound

if TYPE_CHECKING:
    from dialconf.services.views import MailView

NAME = "mail"
HELP = "The outbox: emails queued, sent and failed."
app = App(help=HELP)
STATUSES = ("queued", "sending", "sent", "failed")
# mail IDs are positive 64-bit integers; a larger number names no mail (and would overflow the driver)
MAX_MAIL_ID = 2**63 - 1


def _existing_mail_id(mail_id: int) -> int:
    if not 0 < mail_id <= MAX_MAIL_ID:
        raise MailNotFound(mail_id)
    return mail_id


@app.command("list")
def list_(
    ctx: Context,
    tenant: str | None = Option(None, "--tenant", "-t", metavar="T", help="Only this tenant's mail."),
    status: str | None = Option(
        None,
        "--status",
        metavar="queued|sending|sent|failed",
        help="Only mail in this state; failed ones are printed with the reason.",
    ),
    limit: int = Option(200, "--limit", min=1, max=100000, help="At most N emails."),
    all_: bool = Option(
        False, "--all", help="Every matching email, printed as they are read (no --limit)."
    ),
    as_json: bool = JSON,
) -> None:
    """List emails, newest first; says on stderr when more match than are shown."""
    from dialconf.services import outbox
    from dialconf.services.views import Page

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be queued, sending, sent or failed, not '{status}'")
    rt = runtime(ctx)
    uow, actor = rt.uow(), rt.actor
    result = (
        outbox.iter_mail(uow, actor=actor, tenant=tenant, status=status)
        if all_
        else outbox.list_mail(uow, actor=actor, tenant=tenant, status=status, limit=limit)
    )
    if status == "failed" and not as_json:
        _show_failed(result.items if isinstance(result, Page) else (v for batch in result for v in batch))
        if isinstance(result, Page):
            note_truncated(result)
        return
    show_list(
        result,
        as_json=as_json,
        columns=["id", "status", "kind", "to", "subject", "created", "last error"],
        row=lambda v: [
            v.id,
            v.status,
            v.kind,
            v.to,
            v.subject,
            v.created_at.strftime("%Y-%m-%d %H:%M"),
            v.last_error,
        ],
        empty="no mail",
        whole={"to"},
    )


def _show_failed(views: Iterable[MailView]) -> None:
    # the reason is the point here, so it is printed whole rather than squeezed into a column
    shown = False
    for v in views:
        tries = f"{v.attempts} {'try' if v.attempts == 1 else 'tries'}"
        say(f"mail {v.id} to {v.to} ({v.kind}, {tries}, queued {v.created_at:%Y-%m-%d %H:%M})")
        say(f"  why it failed: {v.last_error or '-'}")
        say(f"  retry with: dialconf mail retry {v.id}")
        shown = True
    if not shown:
        say("no failed mail")


@app.command("show")
def show(ctx: Context, mail_id: int = Argument(..., metavar="ID"), as_json: bool = JSON) -> None:
    """Show one email with its text; a PIN in it is masked (only its recipient ever sees it)."""
    from dialconf.services import outbox

    rt = runtime(ctx)
    view = outbox.show_mail(rt.uow(), actor=rt.actor, mail_id=_existing_mail_id(mail_id))
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
            ("sent at", view.sent_at),
        ],
    )
    print()
    print(view.body_text)


@app.command("send-pending")
def send_pending(
    ctx: Context,
    now: bool = Option(False, "--now", help="Also send messages still waiting out a retry backoff."),
    batch_size: int = BATCH,
    max_attempts: int = MAX_ATTEMPTS,
    first_retry: float = FIRST_RETRY,
    lease: float = LEASE,
    as_json: bool = JSON,
) -> None:
    """Deliver the messages that are due, once, and say how many were sent, deferred and failed."""
    from dialconf.mail.worker import summary
    from dialconf.services import delivery

    rt = runtime(ctx)
    rt.require(Permission.RUN_SERVICES)
    transport = require_smtp(rt.settings.smtp, "dialconf mail send-pending")
    try:
        result = delivery.deliver_due(
            rt.uow(),
            transport,
            policy=make_policy(batch_size, max_attempts, first_retry, lease),
            include_waiting=now,
        )
    finally:
        transport.close()
    if as_json:
        emit_json(result)
    else:
        say(summary(result))


@app.command("retry")
def retry(ctx: Context, mail_id: int = Argument(..., metavar="ID"), as_json: bool = JSON) -> None:
    """Queue a failed email again; the next delivery pass sends it. A failed PIN email was erased: reset the PIN."""
    from dialconf.services import delivery

    rt = runtime(ctx)
    view = delivery.retry_mail(rt.uow(), actor=rt.actor, mail_id=_existing_mail_id(mail_id))
    if as_json:
        emit_json(view.to_dict())
    else:
        say(f"mail {view.id} to {view.to} queued again (it failed with: {view.last_error or '-'})")
