"""Who is asking: the session cookie (pages and API) or a bearer token (API), and CSRF checks.

Pages: `current_actor` reads the session cookie; without a valid one it raises NotSignedIn, which the
error handler turns into a redirect to /signin. API (paths under /api/): `Authorization: Bearer
TOKEN`, or the session cookie plus an `X-CSRF-Token` header on every request that is not GET, HEAD
or OPTIONS; anything else is a 401 problem+json. Forms: `require_csrf` compares the form field
`csrf` (or the `X-CSRF-Token` header htmx sends) with the session's secret.

Either way the actor and the session's CSRF token are also kept on `request.state` (`actor`,
`csrf_token`) for templates.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Response

from dialconf.domain.roles import Actor
from dialconf.errors import Forbidden, NotSignedIn
from dialconf.services.sessions import SESSION_LIFETIME, actor_for_session
from dialconf.services.tokens import actor_for_token
from dialconf.web.deps import Uow

SESSION_COOKIE = "dialconf_session"
SIGNIN_CSRF_COOKIE = "dialconf_signin_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def current_actor(request: Request, uow: Uow) -> Actor:
    """The signed-in actor of this request; NotSignedIn (a 401, or a redirect for pages) otherwise."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    if is_api(request) and header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn("the Authorization header must be: Bearer TOKEN")
        actor = actor_for_token(uow, token=token.strip())
        request.state.actor, request.state.csrf_token = actor, None
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotSignedIn()
    session = actor_for_session(uow, token=cookie)
    if is_api(request) and request.method not in SAFE_METHODS:
        _check_csrf(request.headers.get(CSRF_HEADER), session.csrf_token)
    request.state.actor, request.state.csrf_token = session.actor, session.csrf_token
    return session.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def require_csrf(request: Request, actor: CurrentActor) -> Actor:
    """For a state-changing form: the form field `csrf` or the X-CSRF-Token header must match the session."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # parsed once: the route's Form() parameters read the same copy
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = getattr(request.state, "csrf_token", None)
    if expected is None:  # a bearer token is no browser: there is nothing to forge
        return actor
    _check_csrf(sent, expected)
    return actor


CsrfChecked = Annotated[Actor, Depends(require_csrf)]


def _check_csrf(sent: str | None, expected: str) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            "the form has expired or did not come from this site (CSRF check failed); reload the page"
        )


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the request came over https or the public URL is https."""
    public_url: str = request.app.state.settings.public_url
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
    )
