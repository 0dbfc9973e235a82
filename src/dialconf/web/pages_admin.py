"""The admin center's other pages: bridges and numbers, tenant settings, sent mail, audit log, tenants and
admin accounts (operator), and the public dial-in numbers page.

Pages hide what the role may not do; the services refuse it regardless (Forbidden → the error page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import DialconfError, InvalidInput
from dialconf.services import admins, audit, bridges, delivery, directory, jitsi, outbox, tenants
from dialconf.services.views import TenantView
from dialconf.web.auth import CsrfChecked, CurrentActor
from dialconf.web.deps import Uow
from dialconf.web.pages_users import current_tenant, tenant_choices
from dialconf.web.templating import render

router = APIRouter(include_in_schema=False)

MAIL_STATUSES = ("queued", "sending", "sent", "failed")
DONE = {
    "number-added": "Number added",
    "number-removed": "Number removed",
    "number-default": "Default number changed",
    "settings": "Settings saved",
    "id-mode": "Conference ID mode changed",
    "caldav": "Calendar server saved",
    "caldav-off": "Calendar server disconnected",
    "retried": "Mail queued again",
    "tenant": "Tenant created",
    "admin": "Account created",
}


def _back(path: str, done: str, tenant: str | None = None, **more: str) -> RedirectResponse:
    query = {"done": done, **({"tenant": tenant} if tenant else {}), **more}
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def _tenant_scope(uow: Uow, actor: Actor, tenant: str | None) -> dict[str, Any]:
    t = current_tenant(uow, actor, tenant)
    return {"tenant": t, "tenants": tenant_choices(uow, actor)}


def _invalid(exc: DialconfError) -> bool:
    """A refusal to show on the form itself (bad or conflicting input); any other goes to the error page."""
    return exc.status in (409, 422)


# --- bridges and service numbers ----------------------------------------------------------------------------


def _bridges(
    request: Request, uow: Uow, actor: Actor, tenant: str | None, *, status: int = 200, **extra: Any
) -> Response:
    scope = _tenant_scope(uow, actor, tenant)
    t: TenantView | None = scope["tenant"]
    found = bridges.show_bridges(uow, tenant=t.name, actor=actor) if t else []
    return render(
        request,
        "bridges.html",
        status_code=status,
        bridges=found,
        may_edit=actor.may(Permission.MANAGE_SETTINGS),
        may_add=actor.may(Permission.ADD_NUMBERS),
        **scope,
        **extra,
    )


@router.get("/bridges")
def bridges_page(
    request: Request, actor: CurrentActor, uow: Uow, tenant: str | None = None, done: str = ""
) -> Response:
    """Bridges and their service numbers."""
    return _bridges(request, uow, actor, tenant, notice=DONE.get(done))


@router.post("/bridges/numbers/add")
def add_number(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    number: Annotated[str, Form()] = "",
    bridge: Annotated[str, Form()] = "",
    city: Annotated[str, Form()] = "",
    languages: Annotated[str, Form()] = "",
    toll_free: Annotated[str | None, Form()] = None,
) -> Response:
    """Add a service number (operator only)."""
    try:
        bridges.add_number(
            uow,
            tenant=tenant,
            number=number,
            actor=actor,
            bridge=bridge or None,
            toll_free=toll_free is not None,
            city=city.strip() or None,
            languages=languages.replace(",", " ").split() or None,
        )
    except DialconfError as exc:
        if not _invalid(exc):
            raise
        values = {"number": number, "bridge": bridge, "city": city, "languages": languages}
        return _bridges(request, uow, actor, tenant, status=exc.status, add_error=exc.message, values=values)
    return _back("/bridges", "number-added", tenant)


@router.post("/bridges/numbers/remove")
def remove_number(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    number: Annotated[str, Form()],
) -> Response:
    return _number_action(request, uow, actor, tenant, bridges.remove_number, number, "number-removed")


@router.post("/bridges/numbers/default")
def default_number(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    number: Annotated[str, Form()],
) -> Response:
    return _number_action(request, uow, actor, tenant, bridges.set_default_number, number, "number-default")


def _number_action(
    request: Request,
    uow: Uow,
    actor: Actor,
    tenant: str,
    action: Callable[..., object],
    number: str,
    done: str,
) -> Response:
    """Run one service action on a number; a refusal is shown on the bridges page, success redirects."""
    try:
        action(uow, tenant=tenant, number=number, actor=actor)
    except DialconfError as exc:
        if not _invalid(exc):
            raise
        return _bridges(request, uow, actor, tenant, status=exc.status, error=exc.message)
    return _back("/bridges", done, tenant)


# --- tenant settings ----------------------------------------------------------------------------------------

SETTING_FIELDS = (
    "pin_length",
    "id_quarantine_days",
    "meeting_id_grace_days",
    "email_from_address",
    "email_from_name",
)
_SETTING_KEYWORDS = {
    "PIN": "pin_length",
    "quarantine": "id_quarantine_days",
    "meeting ID grace": "meeting_id_grace_days",
    "sender address": "email_from_address",
    "sender name": "email_from_name",
}


def setting_field_of(message: str, keywords: dict[str, str] = _SETTING_KEYWORDS) -> str | None:
    """The form field a refusal is about: the first of `keywords` (words -> field) found in its message."""
    for keyword, name in keywords.items():
        if keyword in message:
            return name
    return None


def _settings(
    request: Request, uow: Uow, actor: Actor, tenant: str | None, *, status: int = 200, **extra: Any
) -> Response:
    scope = _tenant_scope(uow, actor, tenant)
    t: TenantView | None = scope["tenant"]
    values = {}
    if t is not None:
        values = {
            "pin_length": str(t.pin_length),
            "id_quarantine_days": str(t.id_quarantine_days),
            "meeting_id_grace_days": str(t.meeting_id_grace_days),
            "email_from_address": t.email_from_address or "",
            "email_from_name": t.email_from_name or "",
            "caldav_url": t.caldav_url or "",
            "caldav_username": t.caldav_username or "",
        }
    values.update(extra.pop("values", {}))
    # the newest mapped Jitsi rooms, for a tenant with a MUC domain (a cap an abuser filled is emptied here)
    rooms = jitsi.list_rooms(uow, tenant=t.name, actor=actor, limit=JITSI_ROOMS_SHOWN + 1) if t else []
    return render(
        request,
        "settings.html",
        jitsi_rooms=rooms[:JITSI_ROOMS_SHOWN],
        jitsi_rooms_more=len(rooms) > JITSI_ROOMS_SHOWN,
        status_code=status,
        values=values,
        errors=extra.pop("errors", {}),
        may_manage=actor.may(Permission.MANAGE_SETTINGS),
        may_switch_mode=actor.may(Permission.MANAGE_TENANTS),
        dialin_limits=[(key, text[0].upper() + text[1:]) for key, (_, _, text) in tenants.DIALIN_LIMITS.items()],
        **scope,
        **extra,
    )


@router.get("/settings")
def settings_page(
    request: Request, actor: CurrentActor, uow: Uow, tenant: str | None = None, done: str = "", count: int = 0
) -> Response:
    """Tenant settings; the conference ID mode is the operator's to change."""
    notice = f"{count} Jitsi room(s) unmapped" if done == "jitsi-unmap" else DONE.get(done)
    return _settings(request, uow, actor, tenant, notice=notice)


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


@router.post("/settings")
def save_settings(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    pin_length: Annotated[str, Form()] = "",
    id_quarantine_days: Annotated[str, Form()] = "",
    meeting_id_grace_days: Annotated[str, Form()] = "",
    email_from_address: Annotated[str, Form()] = "",
    email_from_name: Annotated[str, Form()] = "",
    auto_email: Annotated[str | None, Form()] = None,
    meeting_migration: Annotated[str | None, Form()] = None,
) -> Response:
    values = dict(
        zip(
            SETTING_FIELDS,
            (pin_length, id_quarantine_days, meeting_id_grace_days, email_from_address, email_from_name),
            strict=True,
        )
    )
    errors = {
        name: "must be a whole number"
        for name, text in (
            ("pin_length", pin_length),
            ("id_quarantine_days", id_quarantine_days),
            ("meeting_id_grace_days", meeting_id_grace_days),
        )
        if text.strip() and _number(text) is None
    }
    if not errors:
        try:
            tenants.update_settings(
                uow,
                name=tenant,
                actor=actor,
                auto_email=auto_email is not None,
                meeting_migration=meeting_migration is not None,
                pin_length=_number(pin_length),
                id_quarantine_days=_number(id_quarantine_days),
                meeting_id_grace_days=_number(meeting_id_grace_days),
                email_from_address=email_from_address.strip() or None,
                email_from_name=email_from_name.strip() or None,
            )
        except DialconfError as exc:
            field = setting_field_of(exc.message)
            if field is None or exc.status not in (403, 409, 422):
                raise
            errors = {field: exc.message}
            return _settings(request, uow, actor, tenant, status=exc.status, errors=errors, values=values)
        return _back("/settings", "settings", tenant if actor.role is Role.OPERATOR else None)
    return _settings(request, uow, actor, tenant, status=422, errors=errors, values=values)


# the words of caldav_settings' and update_settings' refusals, and the field each is about (in order)
_CALDAV_KEYWORDS = {
    "give the password": "caldav_password",
    "CalDAV URL": "caldav_url",
    "calendar URL": "caldav_url",
    "private address": "caldav_url",
    "port": "caldav_url",
    "user name": "caldav_username",
    "password": "caldav_password",
}


@router.post("/settings/caldav")
def save_caldav(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    caldav_url: Annotated[str, Form()] = "",
    caldav_username: Annotated[str, Form()] = "",
    caldav_password: Annotated[str, Form()] = "",
    disconnect: Annotated[str | None, Form()] = None,
) -> Response:
    """Connect, change or disconnect the calendar server; an empty password keeps the stored one."""
    values = {"caldav_url": caldav_url, "caldav_username": caldav_username}  # never the password
    back = tenant if actor.role is Role.OPERATOR else None
    if disconnect is not None:
        tenants.update_settings(uow, name=tenant, actor=actor, caldav_url="")
        return _back("/settings", "caldav-off", back)
    if not caldav_url.strip():
        errors = {"caldav_url": "give the calendar's URL (Disconnect forgets the calendar server)"}
        return _settings(request, uow, actor, tenant, status=422, errors=errors, values=values)
    try:
        tenants.update_settings(
            uow,
            name=tenant,
            actor=actor,
            caldav_url=caldav_url.strip(),
            caldav_username=caldav_username.strip(),
            caldav_password=caldav_password or None,
        )
    except DialconfError as exc:
        field = setting_field_of(exc.message, _CALDAV_KEYWORDS)
        if field is None or exc.status not in (403, 422):
            raise
        errors = {field: exc.message}
        return _settings(request, uow, actor, tenant, status=exc.status, errors=errors, values=values)
    return _back("/settings", "caldav", back)


JITSI_ROOMS_SHOWN = 20


@router.post("/settings/jitsi-unmap")
def unmap_jitsi_rooms(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    room: Annotated[str, Form()] = "",
    jitsi_since: Annotated[str, Form()] = "",
) -> Response:
    """Forget one mapped Jitsi room, or every room mapped since a time (UTC)."""
    since = None
    if not room:
        try:
            since = jitsi.parse_since(jitsi_since)
        except InvalidInput as exc:
            errors, values = {"jitsi_since": exc.message}, {"jitsi_since": jitsi_since}
            return _settings(request, uow, actor, tenant, status=422, errors=errors, values=values)
    rooms = [room] if room else []
    forgotten = jitsi.unmap_rooms(uow, tenant=tenant, actor=actor, rooms=rooms, created_since=since)
    back = tenant if actor.role is Role.OPERATOR else None
    return _back("/settings", "jitsi-unmap", back, count=str(len(forgotten)))


@router.post("/settings/id-mode")
def save_id_mode(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()],
    mode: Annotated[str, Form()],
) -> Response:
    """Switch static/dynamic conference IDs (the operator only: set_id_mode refuses anyone else)."""
    tenants.set_id_mode(uow, name=tenant, mode=mode, actor=actor)
    return _back("/settings", "id-mode", tenant)


# --- sent mail ----------------------------------------------------------------------------------------------


@router.get("/mail")
def mail_page(
    request: Request,
    actor: CurrentActor,
    uow: Uow,
    tenant: str | None = None,
    status: str = "",
    done: str = "",
) -> Response:
    """Sent mail: status, failure reason, retry."""
    wanted = status if status in MAIL_STATUSES else None
    scope_tenant = tenant if actor.role is Role.OPERATOR and tenant else None
    found = outbox.list_mail(uow, actor=actor, tenant=scope_tenant, status=wanted, limit=200)
    return render(
        request,
        "mail.html",
        mails=found,
        status=wanted or "",
        statuses=MAIL_STATUSES,
        tenant_filter=scope_tenant or "",
        tenants=tenant_choices(uow, actor),
        may_retry=actor.may(Permission.SEND_INFO),
        notice=DONE.get(done),
    )


@router.post("/mail/{mail_id}/retry")
def retry_mail(request: Request, actor: CsrfChecked, uow: Uow, mail_id: int) -> Response:
    delivery.retry_mail(uow, mail_id=mail_id, actor=actor)
    return _back("/mail", "retried")


# --- audit log ----------------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request, actor: CurrentActor, uow: Uow, tenant: str | None = None, target: str = ""
) -> Response:
    """The audit log, newest first, filtered by tenant (operator) and target."""
    scope_tenant = tenant if actor.role is Role.OPERATOR and tenant else None
    found = audit.list_audit(uow, actor=actor, tenant=scope_tenant, target=target.strip() or None, limit=200)
    return render(
        request,
        "audit.html",
        events=found,
        target=target,
        tenant_filter=scope_tenant or "",
        tenants=tenant_choices(uow, actor),
    )


# --- tenants and admin accounts (operator) ------------------------------------------------------------------


def _tenants(request: Request, uow: Uow, actor: Actor, *, status: int = 200, **extra: Any) -> Response:
    return render(
        request,
        "tenants.html",
        status_code=status,
        tenants_list=tenants.list_tenants(uow, actor=actor),
        may_create=actor.may(Permission.MANAGE_TENANTS),
        values=extra.pop("values", {}),
        **extra,
    )


@router.get("/tenants")
def tenants_page(request: Request, actor: CurrentActor, uow: Uow, done: str = "") -> Response:
    return _tenants(request, uow, actor, notice=DONE.get(done))


@router.post("/tenants")
def create_tenant(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    name: Annotated[str, Form()] = "",
    domain: Annotated[str, Form()] = "",
) -> Response:
    try:
        tenants.create_tenant(uow, name=name.strip(), actor=actor, domain=domain.strip() or None)
    except DialconfError as exc:
        if not _invalid(exc):
            raise
        field = "domain" if "domain" in exc.message else "name"
        return _tenants(
            request,
            uow,
            actor,
            status=exc.status,
            errors={field: exc.message},
            values={"name": name, "domain": domain},
        )
    return _back("/tenants", "tenant")


def _admins(
    request: Request, uow: Uow, actor: Actor, tenant: str | None, *, status: int = 200, **extra: Any
) -> Response:
    scope = _tenant_scope(uow, actor, tenant)
    t: TenantView | None = scope["tenant"]
    accounts = admins.list_admins(uow, tenant=t.name, actor=actor) if t else []
    return render(
        request,
        "admins.html",
        status_code=status,
        accounts=accounts,
        roles=("admin", "helpdesk", "operator") if actor.role is Role.OPERATOR else ("admin", "helpdesk"),
        may_create=actor.may(Permission.MANAGE_ADMINS),
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        **scope,
        **extra,
    )


@router.get("/admins")
def admins_page(
    request: Request, actor: CurrentActor, uow: Uow, tenant: str | None = None, done: str = ""
) -> Response:
    """Admin and helpdesk accounts of a tenant (and, for the operator, new operator accounts)."""
    return _admins(request, uow, actor, tenant, notice=DONE.get(done))


@router.post("/admins")
def create_admin(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    tenant: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "admin",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        admins.create_admin(
            uow,
            email=email,
            tenant=None if role == "operator" else tenant,
            role=role,
            password=password,
            actor=actor,
        )
    except DialconfError as exc:
        if not _invalid(exc):
            raise
        field = "password" if "password" in exc.message else "email"
        return _admins(
            request,
            uow,
            actor,
            tenant or None,
            status=exc.status,
            errors={field: exc.message},
            values={"email": email, "role": role},
        )
    return _back("/admins", "admin", tenant if actor.role is Role.OPERATOR else None)


# --- the public dial-in numbers page ------------------------------------------------------------------------


@router.get("/dialin/{tenant}")
def dialin_page(request: Request, uow: Uow, tenant: str) -> Response:
    """Every invitation's "find a local number": the tenant's numbers, nothing else; no sign-in."""
    places = directory.public_dialin_numbers(uow, tenant)
    return render(request, "dialin.html", places=places)
