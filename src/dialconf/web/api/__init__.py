"""The REST API, mounted at /api/v1 by create_app.

To add endpoints: write a module here with `router = APIRouter(tags=[...])` whose routes take
`actor: CurrentActor` and `uow: Uow` and call one service function each, then include it below.
Errors need no handling in a route: a DialconfError becomes problem+json with its status.
"""

from __future__ import annotations

from fastapi import APIRouter

from dialconf.web.api import dialin, me
from dialconf.web.api.problems import problem_responses

# every API route may answer 401 (no or bad credentials) and 403 (CSRF, role); add more per route
router = APIRouter(responses=problem_responses(401, 403))
router.include_router(me.router)
router.include_router(dialin.router)
