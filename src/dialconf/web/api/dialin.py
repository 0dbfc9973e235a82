"""POST /api/v1/dialin/lookup: what a PBX asks about a call (FreeSWITCH, or any PBX that can call HTTP).

The answer carries the fields of `dialconf dialin lookup --json`; wrong IDs count against the caller
and the bridge exactly as through `dialconf agi`. Meant for a token of a pbx account.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dialconf.services import dialin
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CsrfChecked
from dialconf.web.deps import Uow

router = APIRouter(tags=["dial-in"])


class LookupRequest(BaseModel):
    number: str = Field(
        max_length=100, description="The dialed service number, e.g. +14255550100 or tel:+1-425-555-0100."
    )
    digits: str = Field(max_length=100, description="What the caller typed, e.g. '1234567#'.")
    caller: str | None = Field(None, max_length=100, description="The caller's number; empty when withheld.")
    pin: str | None = Field(None, max_length=100, description="The leader PIN typed after '*', if any.")


class LookupAnswer(BaseModel):
    result: str = Field(description="join or reject")
    reason: str = Field(description="What the caller may hear: participant/leader on join, else why not.")
    upn: str | None
    meeting: str | None
    room: str | None = Field(description="The conference room to join, stable for the life of the ID.")
    tenant: str | None
    bridge: str | None
    locked_until: str | None = Field(description="ISO 8601: until when the caller is locked out.")
    detail: str | None = Field(description="For admins only: why an ID leads nowhere. Never play it.")
    language: str | None = Field(description="The service number's language, for the prompts.")
    delay_seconds: int = Field(
        description="Over the bridge's guessing limit: wait this long before answering."
    )


@router.post(
    "/dialin/lookup",
    response_model=LookupAnswer,
    summary="Resolve a call: join which room, or reject it",
    responses=problem_responses(422),
)
def lookup(body: LookupRequest, actor: CsrfChecked, uow: Uow) -> LookupAnswer:
    found = dialin.lookup(
        uow, number=body.number, digits=body.digits, caller=body.caller, pin=body.pin, actor=actor
    )
    return LookupAnswer(**found.to_dict())
