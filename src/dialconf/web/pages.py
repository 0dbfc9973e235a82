"""Pages of the admin center: sign-in and sign-out here; the others in pages_*.py, included below."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialconf.errors import DialconfError, Forbidden
from dialconf.services import sessions
from dialconf.web.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    CsrfChecked,
    clear_session_cookie,
    secure_cookies,
    set_session_cookie,
)
from dialconf.web.deps import Uow
from dialconf.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never //elsewhere or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/users"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/users", status_code=303)


def _signin_form(
    request: Request, *, next_: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    # the form's CSRF token before there is a session: a random value both in a cookie and in the form
    token = secrets.token_hex(32)
    response = render(
        request, "signin.html", status_code=status, next=next_, email=email, error=error, signin_csrf=token
    )
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/signin",
    )
    return response


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return _signin_form(request, next_=safe_next(next))


@router.post("/signin")
def signin(
    request: Request,
    uow: Uow,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = "/users",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise Forbidden("the sign-in form has expired or did not come from this site; reload the page")
    try:
        signed = sessions.sign_in(uow, email=email, password=password, client=client_address(request))
    except DialconfError as exc:
        return _signin_form(request, next_=target, email=email, error=exc.message, status=exc.status)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, signed.token)
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, uow: Uow, actor: CsrfChecked) -> Response:
    sessions.sign_out(uow, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookie(request, response)
    return response


# the admin center's pages live in modules of their own, mounted with this router
from dialconf.web import pages_admin, pages_meetings, pages_users  # noqa: E402

router.include_router(pages_users.router)
router.include_router(pages_meetings.router)
router.include_router(pages_admin.router)
