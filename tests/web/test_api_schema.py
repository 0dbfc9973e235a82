"""schemathesis over the whole OpenAPI schema, in-process, on a seeded database, as contoso's admin.

Every operation gets a few generated requests, valid and invalid ones: no answer may be a 5xx, and
every answer must match the schema (status documented, content type, body, headers). The whole run
is one test on one seeded world, so it stays within seconds.

One check is left out: `positive_data_acceptance` expects every schema-valid request to be accepted,
but the services' own rules (a phone number in E.164, an ID of the bridge's length, a name that
exists) go beyond what a schema can say, and they answer 422/404/409 problems, which is right.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dialconf.web.app import create_app
from tests.web.api_world import CONTOSO_FREE, ODD, seed_api_world
from tests.web.conftest import ADMIN, WebWorld

EXAMPLES_PER_OPERATION = 15


def test_every_operation_answers_within_its_schema_and_never_with_a_5xx(web_world: WebWorld) -> None:
    world = seed_api_world(web_world)
    app = create_app(web_world.settings())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    headers = world.bearer(ADMIN)
    # generated names mostly name nothing; half the requests aim at the seeded tenant's real objects
    known = {"tenant": "contoso", "upn": ODD, "bridge": "main", "number": CONTOSO_FREE, "domain": "contoso.com"}
    known["mail_id"] = world.facts["contoso_mail"]
    known["meeting_id"] = world.facts["contoso_meeting"]
    strategies = [op.as_strategy(generation_mode=mode) for op in operations for mode in GenerationMode]
    strategies += [
        op.as_strategy(path_parameters={k: v for k, v in known.items() if "{" + k + "}" in op.path})
        for op in operations
        if "{" in op.path
    ]
    strategy = st.one_of(strategies)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    with TestClient(app):
        check()
