"""Server-rendered pages: `render(request, "name.html", **context)`.

Every template gets `actor` (None when signed out), `csrf_token` (for the hidden `csrf` field of each
form and the htmx header), `nav` (the links the actor's role may use) and `current` (the path).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dialconf.domain.roles import Actor, Permission, Role

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str


def nav_for(actor: Actor | None) -> list[NavLink]:
    """The admin center's navigation: Audio conferencing pages, and the operator's own."""
    if actor is None:
        return []
    links = [NavLink("/users", "Users"), NavLink("/meetings", "Meetings"), NavLink("/bridges", "Bridge & numbers")]
    if actor.may(Permission.MANAGE_SETTINGS):
        links.append(NavLink("/settings", "Settings"))
    links += [NavLink("/mail", "Mail"), NavLink("/audit", "Audit")]
    if actor.role == Role.OPERATOR:
        links += [NavLink("/tenants", "Tenants"), NavLink("/admins", "Admin accounts")]
    return links


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    actor: Actor | None = getattr(request.state, "actor", None)
    html = (
        environment()
        .get_template(name)
        .render(
            actor=actor,
            csrf_token=getattr(request.state, "csrf_token", None),
            nav=nav_for(actor),
            current=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
