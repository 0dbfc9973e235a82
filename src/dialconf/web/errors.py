"""One place that turns errors into answers: problem+json (RFC 9457) under /api/, an HTML page elsewhere.

A DialconfError answers with its `.status`; its problem `type` is `/errors/<class-name-in-kebab-case>`
(for example `/errors/user-not-found`), stable for as long as the class exists. NotSignedIn on a page
redirects to /signin. FastAPI's validation errors under /api/ are 422 problem+json with an `errors`
list. Anything else that escapes is a bug and stays a 500.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from dialconf.errors import DialconfError, NotSignedIn

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many attempts",
    503: "Service unavailable",
}


def problem_type(exc_class: type[BaseException]) -> str:
    """The stable problem type of an error class: UserNotFound -> /errors/user-not-found."""
    return "/errors/" + re.sub(r"(?<!^)(?=[A-Z])", "-", exc_class.__name__).lower()


def title_for(status: int) -> str:
    return _TITLES.get(status, "Error")


def problem(status: int, detail: str, *, type_: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {"type": type_, "title": title_for(status), "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status: int, detail: str) -> Response:
    from dialconf.web.templating import render

    return render(request, "error.html", status_code=status, title=title_for(status), detail=detail)


async def on_dialconf_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DialconfError)
    if _is_api(request):
        return problem(exc.status, exc.message, type_=problem_type(type(exc)))
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, exc.status, exc.message)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
    ]
    if _is_api(request):
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem(422, detail, type_="/errors/request-validation", errors=errors)
    return _error_page(request, 422, "; ".join(str(e["msg"]) for e in errors) or "invalid request")


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        response: Response = problem(
            exc.status_code, str(exc.detail), type_=f"/errors/http-{exc.status_code}"
        )
    else:
        response = _error_page(request, exc.status_code, str(exc.detail))
    # e.g. the Allow header of a 405
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(DialconfError, on_dialconf_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
