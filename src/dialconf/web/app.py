"""The app factory: `create_app(settings)` builds the web admin center and the REST API.

Nothing happens at import. Without `uow_factory` the app opens the database of `settings` itself
(it does not migrate it: `dialconf serve` and `dialconf up` check the schema first).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from dialconf import __version__
from dialconf.config import Settings
from dialconf.store.db import make_engine, make_session_factory, refusal_for
from dialconf.store.uow import Clock, UnitOfWork, utcnow
from dialconf.web import api, errors, jitsi, pages
from dialconf.web.security import SecurityHeaders
from dialconf.web.templating import render

STATIC = Path(__file__).parent / "static"


def default_uow_factory(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], UnitOfWork]:
    """A new UnitOfWork per call on the database of `settings`, sharing one engine."""
    engine = make_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    session_factory = make_session_factory(engine)
    pin_key = functools.cache(settings.pin_key)
    return lambda: UnitOfWork(session_factory, pin_key=pin_key, clock=clock, public_url=settings.public_url)


def create_app(
    settings: Settings,
    *,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the web application; `uow_factory` gives each request its own unit of work."""
    app = FastAPI(
        title="dialconf",
        version=__version__,
        summary="Dial-in audio conferencing administration",
        # FastAPI's own /docs loads Swagger UI from a CDN, which the Content-Security-Policy forbids:
        # /docs is a plain page of this site listing the operations and linking /openapi.json
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.uow_factory = uow_factory or default_uow_factory(settings, clock=clock or utcnow)
    app.add_middleware(SecurityHeaders)
    errors.install(app)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        # SQLite's write lock held past the busy timeout is a 503 "try again", like the CLI's exit 1
        refusal = refusal_for(exc)
        if refusal is None:
            raise exc
        return await errors.on_dialconf_error(request, refusal)

    app.add_exception_handler(OperationalError, on_database_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(jitsi.router)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        schema = app.openapi()
        operations = [
            (method.upper(), path, op.get("summary", ""))
            for path, methods in schema.get("paths", {}).items()
            for method, op in methods.items()
        ]
        return render(request, "docs.html", operations=operations)

    return app
