"""The outbox: `dialconf mail list|show|retry` over HTTP. A PIN in a mail's text is always masked."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from dialconf.services import delivery, outbox
from dialconf.web.api.models import MailDetailOut, MailPage
from dialconf.web.api.paging import MAX_ID, decode_id
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CurrentActor
from dialconf.web.deps import Uow

router = APIRouter(tags=["mail"])
MailId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/mail", response_model=MailPage, responses=problem_responses(404, 422), summary="Emails, newest first")
def list_mail(
    actor: CurrentActor,
    uow: Uow,
    tenant: Annotated[str | None, Query(description="Only this tenant's mail.")] = None,
    status: Annotated[Literal["queued", "sending", "sent", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page.")] = None,
) -> dict[str, Any]:
    page = outbox.list_mail(
        uow, actor=actor, tenant=tenant, status=status, limit=limit, before=decode_id(cursor)
    )
    return {
        "items": [v.to_dict() for v in page.items],
        "next_cursor": str(page.items[-1].id) if page.truncated and page.items else None,
    }


@router.get(
    "/mail/{mail_id}",
    response_model=MailDetailOut,
    responses=problem_responses(404, 422),
    summary="One email with its text (a PIN masked)",
)
def show_mail(mail_id: MailId, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return outbox.show_mail(uow, mail_id=mail_id, actor=actor).to_dict()


@router.post(
    "/mail/{mail_id}/retry",
    response_model=MailDetailOut,
    responses=problem_responses(404, 409, 422),
    summary="Queue a failed email again",
)
def retry_mail(mail_id: MailId, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return delivery.retry_mail(uow, mail_id=mail_id, actor=actor).to_dict()
