"""The REST API, mounted at /api/v1 by create_app.

To add endpoints: write a module here with `router = APIRouter(tags=[...])` whose routes take
`actor: CurrentActor` and `uow: Uow` and call one service function each, then include it below.
Errors need no handling in a route: a DialconfError becomes problem+json with its status.
"""

from __future__ import annotations

from fastapi import APIRouter

from dialconf.web.api import audit, dialin, mail, me, meetings, tenants, users
from dialconf.web.api.problems import problem_responses

# every API route may answer 400 (a body that is not JSON), 401 (no or bad credentials), 403 (CSRF,
# role) and 503 (database busy); each route adds its own (404, 409, 422)
router = APIRouter(responses=problem_responses(400, 401, 403, 503))
for module in (me, tenants, users, meetings, audit, mail, dialin):
    router.include_router(module.router)
