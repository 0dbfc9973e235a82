"""Jitsi Meet's dial-in endpoints (config.js `dialInConfCodeUrl` and `dialInNumbersUrl`, docs/jitsi.md).

Public like Jitsi's own: the Jitsi web client calls them from the browser without credentials, so
they answer with `Access-Control-Allow-Origin: *` and reveal only what a meeting invitation shows.
Answers use Jitsi's shapes, not problem+json. Query values are read from the raw query string: a
client may send a room name unencoded, and a '+' stays a '+'.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dialconf.errors import InvalidInput
from dialconf.services import jitsi
from dialconf.web.deps import Uow

router = APIRouter(prefix="/jitsi", tags=["jitsi"])
# Jitsi's own answer shapes for a missing parameter and an unknown room or ID: {"message", "conference": false}
_JITSI_PROBLEM = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"message": {"type": "string"}, "conference": {"type": "boolean"}},
                "required": ["message", "conference"],
            }
        }
    }
}
JITSI_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "A parameter is missing or unreadable", **_JITSI_PROBLEM},
    404: {"description": "No such room or ID", **_JITSI_PROBLEM},
}
NOT_FOUND = "No conference mapping was found"


def _param(request: Request, name: str) -> str | None:
    for pair in request.url.query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and unquote(key) == name and value.strip():
            return unquote(value).strip()
    return None


def _answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Access-Control-Allow-Origin": "*"})


def _id(digits: str) -> int | str:
    return int(digits) if digits.isdigit() and not digits.startswith("0") else digits


@router.get("/conferenceMapper", responses=JITSI_RESPONSES, summary="Jitsi conference mapper: a room's dial-in ID, or an ID's room")
def conference_mapper(request: Request, uow: Uow) -> JSONResponse:
    conference, digits = _param(request, "conference"), _param(request, "id")
    try:
        if conference is not None:
            client = request.client.host if request.client else None
            found = jitsi.id_for_room(uow, conference=conference, client=client)
        elif digits is not None:
            found = jitsi.room_for_id(uow, digits=digits)
        else:
            return _answer({"message": "No conference or id provided", "conference": False, "id": False}, 400)
    except jitsi.JitsiRoomNotFound as exc:
        # over the tenant's cap of rooms (JitsiRoomsFull) the shape is the same, the message says why
        missing: dict[str, Any] = {"message": exc.message, "conference": False}
        if digits is not None and conference is None:
            missing["id"] = _id(digits)
        return _answer(missing, 404)
    except InvalidInput as exc:
        return _answer({"message": exc.message, "conference": False}, 400)
    return _answer(
        {
            "message": "Successfully retrieved conference mapping",
            "id": _id(found.digits),
            "conference": found.conference,
        }
    )


@router.get("/phoneNumberList", responses=JITSI_RESPONSES, summary="Jitsi dial-in numbers of a room (array format)")
def phone_number_list(request: Request, uow: Uow) -> JSONResponse:
    conference = _param(request, "conference")
    if conference is None:
        return _answer({"message": "No conference provided", "conference": False}, 400)
    try:
        found = jitsi.phone_numbers(uow, conference=conference)
    except jitsi.JitsiRoomNotFound:
        return _answer({"message": NOT_FOUND, "conference": False}, 404)
    except InvalidInput as exc:
        return _answer({"message": exc.message, "conference": False}, 400)
    return _answer(
        [
            {
                "countryCode": n.country_code,
                "tollFree": n.toll_free,
                "formattedNumber": n.formatted_number,
                "default": n.default,
            }
            for n in found
        ]
    )
