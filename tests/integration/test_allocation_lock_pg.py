"""The bridge lock of conference ID allocation, shown to matter: processes filling the last free IDs of a small bridge.

On a 7-digit bridge, concurrent allocations almost never draw the same ID, so a test there passes
with or without the lock. Here a 4-digit bridge has only 100 free IDs left and six processes ask for
120 at once: without the lock, two transactions that both saw an ID free pick it together and the
second one meets the unique constraint as a raw database error (and the last free IDs are fought
over by everyone). With the lock, exactly 100 users get an ID, the other 20 are told the bridge is
full, and nobody sees a database error.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialconf.domain import ids
from dialconf.store.models import Bridge, ConferenceIdRow
from tests.integration.builders import count_rows, fill_bridge, get_bridge, make_tenant

# the multi-process harness of the other PostgreSQL concurrency tests: spawned workers, one barrier
from tests.integration.test_concurrency_pg import (
    _assert_bridge_is_consistent,
    _live_ids_by_user,
    _run_workers,
    _uow,
)

pytestmark = pytest.mark.postgres

FREE = 100
WORKERS = 6
PER_WORKER = 20  # 120 asked for, 100 free


def test_processes_taking_the_last_free_ids_of_a_small_bridge_each_get_a_different_one(pg_url: str) -> None:
    uow = _uow(pg_url)
    make_tenant(uow, id_length=4)
    bridge = get_bridge(uow)
    space = ids.enumerate_space(4)
    fill_bridge(uow, bridge, space[FREE:])  # every acceptable ID but the first 100 is a meeting's
    plans = [[("enable", f"w{w}u{i}@contoso.com") for i in range(PER_WORKER)] for w in range(WORKERS)]

    outcomes = _run_workers(pg_url, plans)

    errors = [e for o in outcomes for e in o["errors"]]
    assert errors == [], f"{len(errors)} raw errors, such as: {[e.splitlines()[0] for e in errors[:3]]}"
    refused = [r for o in outcomes for r in o["refused"]]
    assert len(refused) == WORKERS * PER_WORKER - FREE
    assert all("ConferenceIdSpaceExhausted" in r for r in refused), refused[:3]
    live = _live_ids_by_user(uow)
    assert len(live) == FREE and all(len(digits) == 1 for digits in live.values())
    assert sorted(d for digits in live.values() for d in digits) == sorted(space[:FREE])
    reported = {upn: digits for o in outcomes for upn, digits in o["ids"].items()}
    assert reported == {upn: digits[0] for upn, digits in live.items()}
    _assert_bridge_is_consistent(uow)
    with uow:
        assert uow.session.scalar(select(Bridge.ids_in_use)) == len(space)
    assert count_rows(uow, ConferenceIdRow) == len(space)
