"""The web admin center and REST API (FastAPI): `create_app(settings)` in web.app builds them.

app.py        create_app: state, middleware, error handlers, static files, routers
deps.py       Uow: a fresh UnitOfWork per request
auth.py       current_actor (pages: session cookie; API: bearer token or cookie + X-CSRF-Token),
              require_csrf for forms, the cookie names
errors.py     DialconfError -> problem+json under /api, an HTML page elsewhere
security.py   the security headers middleware
templating.py render(): Jinja2 templates with the signed-in actor, CSRF token and nav
pages.py      /signin, /signout, /, /users
api/          routers mounted at /api/v1
"""
