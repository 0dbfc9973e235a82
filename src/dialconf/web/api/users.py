"""Users: `dialconf user ...` over HTTP. A sign-in name in a path is URL-encoded (`@` may stay as is).

Answers carry the fields of the CLI's --json for the same action. Enable, disable, the ACP and the
default numbers answer like `_action` in cli/user.py: the user as `user show` prints it, plus
`email_queued` and `message`. The PIN reset's answer is the only place the new PIN ever appears.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import Field
from starlette.convertors import PathConvertor, register_url_convertor

from dialconf.services import resets, users
from dialconf.services.users import MAX_LIST_LIMIT
from dialconf.web.api.models import (
    ActionOut,
    InfoSentOut,
    PinResetOut,
    Request,
    ResetOut,
    UserOut,
    UserPage,
)
from dialconf.web.api.paging import decode_name, encode_name
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CurrentActor
from dialconf.web.deps import Uow

router = APIRouter(tags=["users"])
READ = problem_responses(404, 422)
WRITE = problem_responses(404, 409, 422)
# a sign-in name may hold '/', sent as %2F: the path convertor keeps the rest of the path in it
USER = "/users/{upn:path}"
# the paths of the actions below, after the sign-in name
ACTIONS = (
    "disable",
    "conference-id/reset",
    "conference-id",
    "pin/reset",
    "conference-info/send",
    "acp",
    "default-numbers",
)


class UserOnlyConvertor(PathConvertor):
    """A sign-in name that is the whole rest of the path, unless that ends in an action's path.

    A sign-in name ends in one of its tenant's domains, so it never ends in "/pin/reset": such a
    path is an action's, and a method the action does not take answers 405 with its Allow header
    rather than a 404 for a user named "ada@contoso.com/pin/reset".
    """

    regex = "(?!.*/(?:" + "|".join(re.escape(action) for action in ACTIONS) + ")$).*"


register_url_convertor("user_only", UserOnlyConvertor())

EMAIL_FIELD = Field(
    default=None, description="Send the email for this change, or not (default: the tenant's auto_email)."
)
TO_FIELD = Field(default=None, description="Send the email to this address instead of the user's.")


class UserEnable(Request):
    """The options of `dialconf user enable`."""

    upn: str
    tenant: str
    email: str = Field(description="The user's email address.")
    name: str = Field(description="Display name.")
    country: str | None = None
    provider: str = Field(default="builtin", description="builtin or third-party")
    toll_number: str | None = None
    toll_free_number: str | None = None
    conference_id: str | None = Field(default=None, description="A chosen ID (static mode) or the provider's ID.")
    bridge: str | None = None
    phone: str | None = None
    send_email: bool | None = Field(
        default=None, description="Send the welcome email, or not (default: the tenant's auto_email)."
    )
    to: str | None = TO_FIELD
    allow_weak: bool = False


class EmailChoice(Request):
    email: bool | None = EMAIL_FIELD


class EmailTo(Request):
    email: bool | None = EMAIL_FIELD
    to: str | None = TO_FIELD


class SendTo(Request):
    to: str | None = TO_FIELD


class ConferenceIdSet(Request):
    conference_id: str = Field(description="The digits, spaces and a trailing # allowed.")
    allow_weak: bool = Field(default=False, description="Accept a trivially guessable ID.")
    email: bool | None = EMAIL_FIELD
    to: str | None = TO_FIELD


class AcpSet(Request):
    """The options of `dialconf user set-acp`."""

    provider_name: str
    toll_number: str
    toll_free_numbers: list[str] = Field(default=[], description="The provider's toll-free numbers.")
    participant_passcode: str
    url: str | None = None
    domain: str | None = None
    email: bool | None = EMAIL_FIELD


class DefaultNumbers(Request):
    toll: str | None = None
    toll_free: str | None = None
    email: bool | None = EMAIL_FIELD


@router.get("/users", response_model=UserPage, responses=READ, summary="List a tenant's users")
def list_users(
    actor: CurrentActor,
    uow: Uow,
    tenant: Annotated[str, Query(description="The tenant's name.")],
    search: Annotated[str | None, Query(description="Part of the sign-in name, name or email.")] = None,
    provider: Annotated[str | None, Query(description="builtin or third-party")] = None,
    enabled: Annotated[bool | None, Query(description="Only enabled (true) or disabled (false) users.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page.")] = None,
) -> dict[str, Any]:
    page = users.list_users(
        uow,
        tenant=tenant,
        actor=actor,
        search=search,
        provider=provider,
        enabled=enabled,
        limit=limit,
        after=decode_name(cursor),
    )
    return {
        "items": [v.to_dict() for v in page.items],
        "next_cursor": encode_name(page.items[-1].upn) if page.truncated and page.items else None,
    }


@router.post("/users", status_code=201, response_model=ActionOut, responses=WRITE, summary="Enable a user (admin)")
def enable_user(body: UserEnable, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    result = users.enable_user(
        uow,
        tenant=body.tenant,
        upn=body.upn,
        email=body.email,
        name=body.name,
        actor=actor,
        country=body.country,
        provider=body.provider,
        toll_number=body.toll_number,
        toll_free_number=body.toll_free_number,
        conference_id=body.conference_id,
        bridge=body.bridge,
        phone=body.phone,
        send_email=body.send_email,
        to=body.to,
        allow_weak=body.allow_weak,
    )
    return result.user_dict()


@router.get("/users/{upn:user_only}", response_model=UserOut, responses=READ, summary="Show a user (never the PIN)")
def show_user(upn: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return users.show_user(uow, upn=upn, actor=actor).to_dict()


@router.post(USER + "/disable", response_model=ActionOut, responses=WRITE, summary="Disable a user (admin)")
def disable_user(
    upn: str, actor: CurrentActor, uow: Uow, body: Annotated[EmailChoice | None, Body()] = None
) -> dict[str, Any]:
    body = body or EmailChoice()
    return users.disable_user(uow, upn=upn, actor=actor, send_email=body.email).user_dict()


@router.post(
    USER + "/conference-id/reset",
    response_model=ResetOut,
    responses=WRITE,
    summary="Give the user a new random conference ID",
)
def reset_conference_id(
    upn: str, actor: CurrentActor, uow: Uow, body: Annotated[EmailTo | None, Body()] = None
) -> dict[str, Any]:
    body = body or EmailTo()
    return resets.reset_conference_id(uow, upn=upn, actor=actor, send_email=body.email, to=body.to).to_dict()


@router.put(
    USER + "/conference-id",
    response_model=ResetOut,
    responses=WRITE,
    summary="Set a chosen conference ID, or a third-party provider's ID (admin)",
)
def set_conference_id(upn: str, body: ConferenceIdSet, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return resets.set_conference_id(
        uow,
        upn=upn,
        digits=body.conference_id,
        actor=actor,
        send_email=body.email,
        allow_weak=body.allow_weak,
        to=body.to,
    ).to_dict()


@router.post(
    USER + "/pin/reset",
    response_model=PinResetOut,
    responses=WRITE,
    summary="Generate a new leader PIN, shown in this answer only",
)
def reset_pin(
    upn: str, actor: CurrentActor, uow: Uow, body: Annotated[EmailTo | None, Body()] = None
) -> dict[str, Any]:
    body = body or EmailTo()
    return resets.reset_pin(uow, upn=upn, actor=actor, send_email=body.email, to=body.to).to_dict()


@router.post(
    USER + "/conference-info/send",
    response_model=InfoSentOut,
    responses=WRITE,
    summary="Email the conference ID and dial-in numbers to the user (never the PIN)",
)
def send_info(
    upn: str, actor: CurrentActor, uow: Uow, body: Annotated[SendTo | None, Body()] = None
) -> dict[str, Any]:
    body = body or SendTo()
    return resets.send_info(uow, upn=upn, actor=actor, to=body.to).to_dict()


@router.put(
    USER + "/acp",
    response_model=ActionOut,
    responses=WRITE,
    summary="Use a third-party audio conferencing provider for this user (admin)",
)
def set_acp(upn: str, body: AcpSet, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    result = users.set_acp(
        uow,
        upn=upn,
        actor=actor,
        provider_name=body.provider_name,
        toll_number=body.toll_number,
        toll_free_numbers=body.toll_free_numbers,
        participant_passcode=body.participant_passcode,
        url=body.url,
        domain=body.domain,
        send_email=body.email,
    )
    return result.user_dict()


@router.put(
    USER + "/default-numbers",
    response_model=ActionOut,
    responses=WRITE,
    summary="Change the numbers in the user's invitations (admin)",
)
def set_default_numbers(upn: str, body: DefaultNumbers, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    result = users.set_default_number(
        uow, upn=upn, actor=actor, toll=body.toll, toll_free=body.toll_free, send_email=body.email
    )
    return result.user_dict()
