"""The audit log: `dialconf audit list` over HTTP, newest first, in pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dialconf.services import audit
from dialconf.web.api.models import AuditPage
from dialconf.web.api.paging import decode_id
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CurrentActor
from dialconf.web.deps import Uow

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPage, responses=problem_responses(404, 422), summary="Audit events")
def list_audit(
    actor: CurrentActor,
    uow: Uow,
    tenant: Annotated[str | None, Query(description="Only this tenant's events.")] = None,
    target: Annotated[str | None, Query(description="Only events about this user or object.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page.")] = None,
) -> dict[str, Any]:
    page = audit.list_audit(
        uow, actor=actor, tenant=tenant, target=target, limit=limit, before=decode_id(cursor)
    )
    return {
        "items": [v.to_dict() for v in page.items],
        "next_cursor": str(page.items[-1].id) if page.truncated and page.items else None,
    }
