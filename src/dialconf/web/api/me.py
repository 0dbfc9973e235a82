"""GET /api/v1/me: who the credentials belong to (the example of an API route)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dialconf.web.auth import CurrentActor

router = APIRouter(tags=["account"])


class Me(BaseModel):
    name: str
    role: str
    tenant: str | None


@router.get("/me", response_model=Me, summary="The signed-in account")
def me(actor: CurrentActor) -> Me:
    return Me(name=actor.name, role=str(actor.role), tenant=actor.tenant_name)
