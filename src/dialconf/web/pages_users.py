"""Audio conferencing → Users: the list, the action pane of one user, and its properties page.

Each route calls the same service functions as `dialconf user ...`. The pane is a page of its own
(`/users/{upn}`) and, for htmx, a partial (`/users/{upn}/pane`) swapped in beside the list; its
actions answer an htmx request with the new pane and a plain form POST with a redirect (or, for a
new PIN, with the page itself: the PIN is in that one answer and nowhere else).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import DialconfError
from dialconf.services import bridges, meetings, resets, tenants, users
from dialconf.services.views import Page, TenantView, UserView
from dialconf.web.auth import CsrfChecked, CurrentActor
from dialconf.web.deps import Uow
from dialconf.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
PROVIDERS = ("builtin", "third-party")
# what a redirect after a plain (no-JS) form POST says: a fixed text per code, never text from the URL
DONE = {
    "conference-id": "Conference ID reset: the new ID is shown below",
    "info": "Conference info queued for email",
    "acp": "Third-party provider saved",
    "typed-id": "Conference ID saved",
    "numbers": "Default numbers saved",
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def current_tenant(uow: Uow, actor: Actor, requested: str | None) -> TenantView | None:
    """The tenant a page shows: the account's own; the operator picks one (the first by default)."""
    if actor.tenant_name is not None:
        return tenants.show_tenant(uow, name=actor.tenant_name, actor=actor)
    if requested:
        return tenants.show_tenant(uow, name=requested, actor=actor)
    every = tenants.list_tenants(uow, actor=actor)
    return every[0] if every else None


def tenant_choices(uow: Uow, actor: Actor) -> list[str]:
    """The tenants the operator may switch between (an admin sees only its own)."""
    if actor.role is not Role.OPERATOR:
        return []
    return [t.name for t in tenants.list_tenants(uow, actor=actor)]


def search_text(text: str) -> str:
    """What the users search looks for: a conference ID as typed ("123 4567", "#1234567#") becomes its digits."""
    text = text.strip()
    compact = text.replace(" ", "").replace("#", "")
    return compact if compact.isdigit() else text


def count_line(found: Page[UserView]) -> str:
    """The line above the list: "Showing 26–50 of 1,234 users.", "... of more than 10,000 users."."""
    if found.total == 0 and not found.total_capped:
        return "No user matches."
    if found.offset_capped:
        # more than the cap come before this page: where it starts is not counted
        n = len(found.items)
        return f"Showing {n:,} user{'s' if n != 1 else ''} beyond the first {found.offset:,} of more than {found.total:,}."
    shown = f"{found.offset + 1:,}–{found.offset + len(found.items):,}" if found.items else "none"
    if found.total_capped:
        return f"Showing {shown} of more than {found.total:,} users."
    return f"Showing {shown} of {found.total:,} user{'s' if found.total != 1 else ''}."


# the "Enabled" filter: any user, or only enabled, or only disabled ones
ENABLED_CHOICES = {"": None, "yes": True, "no": False}


def _list_context(
    uow: Uow,
    actor: Actor,
    *,
    tenant: str | None,
    q: str,
    provider: str,
    page: int,
    enabled: str = "",
    after: str = "",
) -> dict[str, Any]:
    """The users list: "Next page" continues after the last sign-in name shown (keyset paging, as deep
    as need be at the cost of the first page); `page` (offset) serves the first pages and "Previous"."""
    t = current_tenant(uow, actor, tenant)
    context: dict[str, Any] = {
        "tenant": t,
        "tenants": tenant_choices(uow, actor),
        "q": q,
        "provider": provider if provider in PROVIDERS else "",
        "providers": PROVIDERS,
        "enabled": enabled if enabled in ENABLED_CHOICES else "",
        "page_no": max(page, 1),
        "users": None,
    }
    if t is None:
        return context
    offset = 0 if after else (context["page_no"] - 1) * PAGE_SIZE
    found = users.list_users(
        uow,
        tenant=t.name,
        actor=actor,
        search=search_text(q) or None,
        provider=context["provider"] or None,
        enabled=ENABLED_CHOICES[context["enabled"]],
        limit=PAGE_SIZE,
        offset=offset,
        after=after or None,
    )
    context["users"] = found
    context["count_line"] = count_line(found)
    # with `after`, the page's offset counts the matches before it: the page number follows from it,
    # unless more matches come before it than the list counts (then "First page" replaces "Previous")
    context["page_no"] = None if found.offset_capped else found.offset // PAGE_SIZE + 1
    chosen = (("tenant", tenant or ""), ("q", q), ("provider", context["provider"]), ("enabled", context["enabled"]))
    keep = {k: v for k, v in chosen if v}
    context["query"] = urlencode(keep)
    context["first_url"] = "/users?" + urlencode(keep) if found.offset_capped else None
    context["prev_url"] = (
        "/users?" + urlencode({**keep, "page": context["page_no"] - 1})
        if context["page_no"] is not None and context["page_no"] > 1
        else None
    )
    last = found.items[-1].upn if found.items else None
    context["next_url"] = (
        "/users?" + urlencode({**keep, "after": last}) if found.truncated and last is not None else None
    )
    return context


@router.get("/users")
def users_page(
    request: Request,
    actor: CurrentActor,
    uow: Uow,
    tenant: str | None = None,
    q: str = "",
    provider: str = "",
    enabled: str = "",
    page: int = 1,
    after: str = "",
) -> Response:
    """Audio conferencing → Users: search, filter by provider and by enabled, page through."""
    context = _list_context(
        uow, actor, tenant=tenant, q=q, provider=provider, page=page, enabled=enabled, after=after
    )
    return render(request, "users.html", pane=None, **context)


def user_url(upn: str, suffix: str = "") -> str:
    return f"/users/{quote(upn, safe='@')}{suffix}"


def _pane_context(
    uow: Uow,
    actor: Actor,
    upn: str,
    *,
    confirm: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    new_pin: str | None = None,
) -> dict[str, Any]:
    user = users.show_user(uow, upn=upn, actor=actor)
    tenant = tenants.show_tenant(uow, name=user.tenant, actor=actor)
    return {
        "user": user,
        "user_tenant": tenant,
        "confirm": confirm if confirm in ("conference-id", "pin") else None,
        "notice": notice,
        "pane_error": error,
        "new_pin": new_pin,
        "may_reset": actor.may(Permission.RESET_SECRETS),
        "may_send": actor.may(Permission.SEND_INFO),
        "may_manage": actor.may(Permission.MANAGE_USERS),
        "base": user_url(user.upn),
        "upcoming_meetings": meetings.count_meetings(uow, actor=actor, organizer=user.upn),
    }


def _pane_answer(
    request: Request, uow: Uow, actor: Actor, upn: str, *, status: int = 200, **pane: Any
) -> Response:
    context = _pane_context(uow, actor, upn, **pane)
    if is_htmx(request):
        return render(request, "_pane.html", status_code=status, **context)
    listing = _list_context(
        uow,
        actor,
        tenant=context["user"].tenant if actor.role is Role.OPERATOR else None,
        q="",
        provider="",
        page=1,
    )
    return render(request, "users.html", status_code=status, pane=context, **listing)


@router.get("/users/{upn}")
def user_page(
    request: Request, actor: CurrentActor, uow: Uow, upn: str, confirm: str | None = None, done: str = ""
) -> Response:
    """The users page with the action pane of one user (and, with `?confirm=`, its confirmation)."""
    return _pane_answer(request, uow, actor, upn, confirm=confirm, notice=DONE.get(done))


@router.get("/users/{upn}/pane")
def user_pane(
    request: Request, actor: CurrentActor, uow: Uow, upn: str, confirm: str | None = None
) -> Response:
    """The action pane alone, for htmx to swap in beside the list."""
    return render(request, "_pane.html", **_pane_context(uow, actor, upn, confirm=confirm))


def _after_action(request: Request, uow: Uow, actor: Actor, upn: str, notice: str, done: str) -> Response:
    if is_htmx(request):
        return _pane_answer(request, uow, actor, upn, notice=notice)
    return RedirectResponse(user_url(upn, "?" + urlencode({"done": done})), status_code=303)


def _refused(request: Request, uow: Uow, actor: Actor, upn: str, exc: DialconfError) -> Response:
    """An htmx action the service refused: the pane says why (htmx does not swap an error status)."""
    if not is_htmx(request):
        raise exc
    return _pane_answer(request, uow, actor, upn, error=exc.message)


@router.post("/users/{upn}/conference-id/reset")
def reset_conference_id(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    upn: str,
    send_email: Annotated[str | None, Form()] = None,
) -> Response:
    """Yes in the "Reset conference ID?" dialog."""
    try:
        result = resets.reset_conference_id(uow, upn=upn, actor=actor, send_email=send_email is not None)
    except DialconfError as exc:
        return _refused(request, uow, actor, upn, exc)
    if result.conference_id:
        notice = f"New conference ID: {result.conference_id}" + (
            "; emailed to the user" if result.email_queued else ""
        )
    else:
        notice = result.message
    return _after_action(request, uow, actor, upn, notice, "conference-id")


@router.post("/users/{upn}/pin/reset")
def reset_pin(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    upn: str,
    send_email: Annotated[str | None, Form()] = None,
) -> Response:
    """Yes in the "Reset leader PIN?" dialog: the answer shows the new PIN, once."""
    try:
        result = resets.reset_pin(uow, upn=upn, actor=actor, send_email=send_email is not None)
    except DialconfError as exc:
        return _refused(request, uow, actor, upn, exc)
    notice = "Leader PIN reset" + ("; emailed to the user" if result.email_queued else "")
    # rendered in this answer only: never stored, never in a redirect, so a reload cannot show it
    return _pane_answer(request, uow, actor, upn, notice=notice, new_pin=result.pin)


@router.post("/users/{upn}/conference-info/send")
def send_info(request: Request, actor: CsrfChecked, uow: Uow, upn: str) -> Response:
    """Send conference info via email."""
    try:
        result = resets.send_info(uow, upn=upn, actor=actor)
    except DialconfError as exc:
        return _refused(request, uow, actor, upn, exc)
    return _after_action(request, uow, actor, upn, result.message.capitalize(), "info")


# --- properties -------------------------------------------------------------------------------------------

ACP_FIELDS = ("provider_name", "toll_number", "toll_free_numbers", "participant_passcode", "url", "domain")
_ACP_KEYWORDS = {
    "provider name": "provider_name",
    "passcode": "participant_passcode",
    "web address": "url",
}


def acp_field_of(message: str, values: dict[str, str]) -> str:
    """The field beside which a refusal of set_acp is shown: the one it names, or quotes the value of."""
    for keyword, name in _ACP_KEYWORDS.items():
        if keyword in message:
            return name
    for name in ("toll_number", "toll_free_numbers", "url", "domain"):
        for part in values.get(name, "").replace(",", " ").split():
            if f"'{part}'" in message or part in message:
                return name
    return "toll_number"


def _properties(
    request: Request,
    uow: Uow,
    actor: Actor,
    upn: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    user: UserView = users.show_user(uow, upn=upn, actor=actor)
    numbers = bridges.list_numbers(uow, tenant=user.tenant, actor=actor)
    third = user.third_party or {}
    defaults = {
        "provider_name": third.get("provider_name") or "",
        "toll_number": third.get("toll_number") or "",
        "toll_free_numbers": ", ".join(third.get("toll_free_numbers") or []),
        "participant_passcode": third.get("participant_passcode") or "",
        "url": third.get("url") or "",
        "domain": third.get("domain") or "",
        "conference_id": user.conference_id or "",
        "toll": user.toll_number or "",
        "toll_free": user.toll_free_number or "",
    }
    return render(
        request,
        "properties.html",
        status_code=status,
        user=user,
        numbers=[n for n in numbers if n.bridge == user.bridge],
        values={**defaults, **(values or {})},
        errors=errors or {},
        notice=notice,
        may_manage=actor.may(Permission.MANAGE_USERS),
        base=user_url(user.upn),
    )


@router.get("/users/{upn}/properties")
def properties_page(request: Request, actor: CurrentActor, uow: Uow, upn: str, done: str = "") -> Response:
    """User properties: provider, third-party details and conference ID, default numbers."""
    return _properties(request, uow, actor, upn, notice=DONE.get(done))


def _saved(upn: str, done: str) -> Response:
    return RedirectResponse(user_url(upn, "/properties?" + urlencode({"done": done})), status_code=303)


@router.post("/users/{upn}/properties/acp")
def save_acp(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    upn: str,
    provider_name: Annotated[str, Form()] = "",
    toll_number: Annotated[str, Form()] = "",
    toll_free_numbers: Annotated[str, Form()] = "",
    participant_passcode: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    domain: Annotated[str, Form()] = "",
) -> Response:
    """The third-party provider's details (dialconf user set-acp)."""
    values = dict(
        zip(
            ACP_FIELDS,
            (provider_name, toll_number, toll_free_numbers, participant_passcode, url, domain),
            strict=True,
        )
    )
    try:
        users.set_acp(
            uow,
            upn=upn,
            actor=actor,
            provider_name=provider_name,
            toll_number=toll_number,
            toll_free_numbers=toll_free_numbers.replace(",", " ").split(),
            participant_passcode=participant_passcode,
            url=url.strip() or None,
            domain=domain.strip() or None,
        )
    except DialconfError as exc:
        if exc.status not in (409, 422):
            raise
        errors = {acp_field_of(exc.message, values): exc.message}
        return _properties(request, uow, actor, upn, status=exc.status, errors=errors, values=values)
    return _saved(upn, "acp")


@router.post("/users/{upn}/properties/conference-id")
def save_conference_id(
    request: Request, actor: CsrfChecked, uow: Uow, upn: str, conference_id: Annotated[str, Form()] = ""
) -> Response:
    """A conference ID typed by hand (dialconf user set-conference-id)."""
    try:
        resets.set_conference_id(uow, upn=upn, digits=conference_id, actor=actor)
    except DialconfError as exc:
        if exc.status not in (409, 422):
            raise
        return _properties(
            request,
            uow,
            actor,
            upn,
            status=exc.status,
            errors={"conference_id": exc.message},
            values={"conference_id": conference_id},
        )
    return _saved(upn, "typed-id")


@router.post("/users/{upn}/properties/numbers")
def save_numbers(
    request: Request,
    actor: CsrfChecked,
    uow: Uow,
    upn: str,
    toll: Annotated[str, Form()] = "",
    toll_free: Annotated[str, Form()] = "",
) -> Response:
    """Default toll and toll-free numbers (dialconf user set-default-number)."""
    try:
        users.set_default_number(uow, upn=upn, actor=actor, toll=toll or None, toll_free=toll_free or None)
    except DialconfError as exc:
        if exc.status not in (409, 422):
            raise
        field = "toll_free" if toll_free and toll_free in exc.message else "toll"
        return _properties(
            request,
            uow,
            actor,
            upn,
            status=exc.status,
            errors={field: exc.message},
            values={"toll": toll, "toll_free": toll_free},
        )
    return _saved(upn, "numbers")
