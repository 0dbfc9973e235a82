"""Tenants and their settings, bridges and service numbers: `dialconf tenant|bridge|number ...` over HTTP.

To an admin or helpdesk account another tenant does not exist (404), whatever its name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, SecretStr

from dialconf.domain.ids import DEFAULT_BRIDGE_ID_LENGTH
from dialconf.services import bridges, jitsi, tenants
from dialconf.web.api.models import BridgeOut, NumberOut, Request, TenantOut
from dialconf.web.api.problems import problem_responses
from dialconf.web.auth import CurrentActor
from dialconf.web.deps import Uow

router = APIRouter(tags=["tenants"])
READ = problem_responses(404, 422)
WRITE = problem_responses(404, 409, 422)


class TenantCreate(Request):
    name: str = Field(description="Short name of the organisation, such as contoso.")
    domains: list[str] = Field(default=[], description="The tenant's domains; the first is the primary one.")


class SettingsPatch(Request):
    """Only the fields sent are changed (as the options of `dialconf tenant set`)."""

    auto_email: bool | None = None
    pin_length: int | None = None
    email_from_address: str | None = None
    email_from_name: str | None = None
    meeting_migration: bool | None = None
    id_quarantine_days: int | None = None
    meeting_id_grace_days: int | None = Field(
        None, description="Days an ended meeting keeps its own conference ID before it is released (0-365)."
    )
    dialin_caller_max_failures: int | None = None
    dialin_caller_window_minutes: int | None = None
    dialin_caller_lockout_minutes: int | None = None
    dialin_bridge_max_failures: int | None = None
    dialin_bridge_delay_seconds: int | None = None
    jitsi_muc_domain: str | None = Field(None, description='the operator\'s; "" clears it')
    jitsi_max_rooms: int | None = Field(None, description="rooms the public Jitsi conference mapper may create")
    caldav_url: str | None = Field(
        None, description='CalDAV calendar a migration also rewrites ({upn} stands for the organizer); "" disconnects'
    )
    caldav_username: str | None = Field(None, description='user name for the CalDAV server ("" for none)')
    caldav_password: SecretStr | None = Field(
        None, description="the CalDAV password; write-only, never part of an answer", json_schema_extra={"writeOnly": True}
    )


class IdMode(Request):
    mode: str = Field(description="static or dynamic")


class DomainIn(Request):
    domain: str


class BridgeCreate(Request):
    name: str
    id_length: int = Field(default=DEFAULT_BRIDGE_ID_LENGTH, description="Digits in conference IDs (4-10).")


class NumberCreate(Request):
    number: str = Field(description="E.164, such as +14255550100.")
    bridge: str | None = Field(default=None, description="Default: the tenant's first bridge.")
    toll_free: bool = False
    city: str | None = None
    default: bool = Field(default=False, description="Make it the bridge default (toll numbers only).")
    languages: list[str] = Field(default=[], description="Prompt languages, primary first; default en-US.")


@router.get("/tenants", response_model=list[TenantOut], summary="List the tenants you can see")
def list_tenants(actor: CurrentActor, uow: Uow) -> list[dict[str, Any]]:
    return [v.to_dict() for v in tenants.list_tenants(uow, actor=actor)]


@router.post(
    "/tenants", status_code=201, response_model=TenantOut, responses=WRITE, summary="Create a tenant (operator)"
)
def create_tenant(body: TenantCreate, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.create_tenant(uow, name=body.name, domains=body.domains, actor=actor).to_dict()


@router.get("/tenants/{tenant}", response_model=TenantOut, responses=READ, summary="Show a tenant")
def show_tenant(tenant: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.show_tenant(uow, name=tenant, actor=actor).to_dict()


@router.get(
    "/tenants/{tenant}/settings", response_model=TenantOut, responses=READ, summary="A tenant's settings"
)
def get_settings(tenant: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.show_tenant(uow, name=tenant, actor=actor).to_dict()


@router.patch(
    "/tenants/{tenant}/settings",
    response_model=TenantOut,
    responses=WRITE,
    summary="Change a tenant's settings (admin)",
)
def patch_settings(tenant: str, body: SettingsPatch, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.update_settings(
        uow,
        name=tenant,
        actor=actor,
        auto_email=body.auto_email,
        pin_length=body.pin_length,
        email_from_address=body.email_from_address,
        email_from_name=body.email_from_name,
        meeting_migration=body.meeting_migration,
        id_quarantine_days=body.id_quarantine_days,
        meeting_id_grace_days=body.meeting_id_grace_days,
        dialin_limits={
            key: value
            for key, value in body.model_dump(include=set(tenants.DIALIN_LIMITS)).items()
            if value is not None
        },
        jitsi_muc_domain=body.jitsi_muc_domain,
        caldav_url=body.caldav_url,
        caldav_username=body.caldav_username,
        caldav_password=body.caldav_password.get_secret_value() if body.caldav_password is not None else None,
    ).to_dict()


@router.put(
    "/tenants/{tenant}/conference-id-mode",
    response_model=TenantOut,
    responses=WRITE,
    summary="Switch between static and dynamic conference IDs (operator)",
)
def set_id_mode(tenant: str, body: IdMode, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.set_id_mode(uow, name=tenant, mode=body.mode, actor=actor).to_dict()


@router.post(
    "/tenants/{tenant}/domains", response_model=TenantOut, responses=WRITE, summary="Add a domain (operator)"
)
def add_domain(tenant: str, body: DomainIn, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.add_domain(uow, name=tenant, domain=body.domain, actor=actor).to_dict()


@router.delete(
    "/tenants/{tenant}/domains/{domain}",
    response_model=TenantOut,
    responses=WRITE,
    summary="Give up a domain nobody uses (operator)",
)
def remove_domain(tenant: str, domain: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return tenants.remove_domain(uow, name=tenant, domain=domain, actor=actor).to_dict()


@router.get(
    "/tenants/{tenant}/bridges", response_model=list[BridgeOut], responses=READ, summary="A tenant's bridges"
)
def list_bridges(tenant: str, actor: CurrentActor, uow: Uow) -> list[dict[str, Any]]:
    return [v.to_dict() for v in bridges.show_bridges(uow, tenant=tenant, actor=actor)]


@router.get(
    "/tenants/{tenant}/bridges/{bridge}", response_model=BridgeOut, responses=READ, summary="Show a bridge"
)
def show_bridge(tenant: str, bridge: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return bridges.show_bridges(uow, tenant=tenant, name=bridge, actor=actor)[0].to_dict()


@router.post(
    "/tenants/{tenant}/bridges",
    status_code=201,
    response_model=BridgeOut,
    responses=WRITE,
    summary="Create a bridge (operator)",
)
def create_bridge(tenant: str, body: BridgeCreate, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return bridges.create_bridge(
        uow, tenant=tenant, name=body.name, id_length=body.id_length, actor=actor
    ).to_dict()


@router.get(
    "/tenants/{tenant}/numbers",
    response_model=list[NumberOut],
    responses=READ,
    summary="A tenant's service numbers",
)
def list_numbers(tenant: str, actor: CurrentActor, uow: Uow) -> list[dict[str, Any]]:
    return [v.to_dict() for v in bridges.list_numbers(uow, tenant=tenant, actor=actor)]


@router.post(
    "/tenants/{tenant}/numbers",
    status_code=201,
    response_model=NumberOut,
    responses=WRITE,
    summary="Add a service number (operator)",
)
def add_number(tenant: str, body: NumberCreate, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return bridges.add_number(
        uow,
        tenant=tenant,
        number=body.number,
        bridge=body.bridge,
        toll_free=body.toll_free,
        city=body.city,
        default=body.default,
        languages=body.languages or None,
        actor=actor,
    ).to_dict()


@router.delete(
    "/tenants/{tenant}/numbers/{number}",
    response_model=NumberOut,
    responses=WRITE,
    summary="Remove a service number nobody depends on (admin)",
)
def remove_number(tenant: str, number: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return bridges.remove_number(uow, tenant=tenant, number=number, actor=actor).to_dict()


@router.put(
    "/tenants/{tenant}/numbers/{number}/default",
    response_model=NumberOut,
    responses=WRITE,
    summary="Make a toll number its bridge's default (admin)",
)
def set_default_number(tenant: str, number: str, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    return bridges.set_default_number(uow, tenant=tenant, number=number, actor=actor).to_dict()


class JitsiRoomOut(BaseModel):
    room: str = Field(description="room@muc.domain, as Jitsi folds it")
    conference_id: str
    live: bool = Field(description="false: its ID was released; the room gets a new one when Jitsi next asks")
    created_at: str


class JitsiUnmap(Request):
    rooms: list[str] = Field(default_factory=list, max_length=1000, description="room@muc.domain names")
    created_since: datetime | None = Field(None, description="every room mapped at or after this time")


class JitsiUnmapped(BaseModel):
    unmapped: list[str]


@router.get(
    "/tenants/{tenant}/jitsi-rooms",
    response_model=list[JitsiRoomOut],
    responses=READ,
    summary="The Jitsi rooms the conference mapper gave an ID, newest first",
)
def list_jitsi_rooms(
    tenant: str, actor: CurrentActor, uow: Uow, limit: int = Query(1000, ge=1, le=jitsi.MAX_ROOM_LIST)
) -> list[dict[str, Any]]:
    return [v.to_dict() for v in jitsi.list_rooms(uow, tenant=tenant, actor=actor, limit=limit)]


@router.post(
    "/tenants/{tenant}/jitsi-rooms/unmap",
    response_model=JitsiUnmapped,
    responses=WRITE,
    summary="Forget mapped Jitsi rooms: their IDs go into quarantine (admin)",
)
def unmap_jitsi_rooms(tenant: str, body: JitsiUnmap, actor: CurrentActor, uow: Uow) -> dict[str, Any]:
    forgotten = jitsi.unmap_rooms(
        uow, tenant=tenant, actor=actor, rooms=body.rooms, created_since=body.created_since
    )
    return {"unmapped": forgotten}
