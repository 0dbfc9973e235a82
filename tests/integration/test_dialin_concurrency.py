"""Many OS processes calling the auto attendant at once: every wrong PIN and wrong ID counts exactly once.

Each worker is a separate process started with 'spawn' (its own interpreter, engine and connections),
released at the same moment by a barrier, on a real PostgreSQL database (and, for the counts, on a
SQLite file, where the lookup reads before it takes the write lock). A
worker records every answer, and anything that is not an answer (a raw database error) as an error.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select, update

from dialconf.domain.pins import LockoutPolicy
from dialconf.services import dialin, resets
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.models import DialinFailure, User
from dialconf.store.uow import UnitOfWork
from tests.integration.builders import OPERATOR, SEATTLE, make_tenant, make_user
from tests.support.processes import run_at_once

KEY = b"dialin-concurrency-test-key"
TIMEOUT = 120
CALLER = "+12065550111"


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)), pin_key=lambda: KEY)


def _call(url: str, worker: int, calls: list[dict[str, Any]], barrier: Any, results: Any) -> None:
    """Make `calls` (keyword arguments of dialin.lookup) one after the other and report every answer."""
    uow = _uow(url)
    outcome: dict[str, Any] = {"worker": worker, "answers": [], "errors": []}
    barrier.wait(timeout=TIMEOUT)
    for kwargs in calls:
        try:
            answer = dialin.lookup(uow, number=SEATTLE, actor=OPERATOR, **kwargs)
            outcome["answers"].append((answer.result, answer.reason, answer.locked_until is not None))
        except Exception as exc:  # a raw database error: exactly what this test hunts for
            outcome["errors"].append(f"{type(exc).__name__}: {exc}")
    results.put(outcome)


def _run(url: str, plans: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return run_at_once(_call, url, plans, timeout=TIMEOUT, name="caller")


def _organizer(url: str, *, pin_length: int) -> tuple[str, str]:
    """Ada's conference ID and a leader PIN that is not hers."""
    uow = _uow(url)
    make_tenant(uow, pin_length=pin_length)
    digits = make_user(uow, "ada@contoso.com").conference_id
    assert digits is not None
    pin = resets.reset_pin(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False).pin
    wrong = "".join(str((int(d) + 1) % 10) for d in pin)
    return digits, wrong


def _pin_state(url: str) -> tuple[int, bool, bool]:
    uow = _uow(url)
    with uow:
        user = uow.session.scalars(select(User).where(User.upn == "ada@contoso.com")).one()
        return user.pin_total_failures, user.pin_locked_until is not None, user.pin_locked_for_good


def _reasons(outcomes: list[dict[str, Any]]) -> Counter[str]:
    return Counter(reason for o in outcomes for _result, reason, _locked in o["answers"])


def test_parallel_wrong_pins_check_exactly_the_limit_before_the_pin_locks(database_url: str) -> None:
    digits, wrong = _organizer(database_url, pin_length=5)
    limit = LockoutPolicy.for_length(5).local_limit  # 25
    workers, tries = 12, 10  # 120 wrong PINs at once, far over the limit

    outcomes = _run(database_url, [[{"digits": digits, "pin": wrong, "caller": CALLER}] * tries] * workers)

    assert [o["errors"] for o in outcomes] == [[]] * workers
    assert _reasons(outcomes) == {dialin.WRONG_PIN: limit, dialin.PIN_LOCKED: workers * tries - limit}
    total, locked, for_good = _pin_state(database_url)
    assert (total, locked, for_good) == (limit, True, False)


@pytest.mark.postgres
def test_parallel_wrong_pins_stop_exactly_at_the_lifetime_limit(pg_url: str) -> None:
    database_url = pg_url
    digits, wrong = _organizer(database_url, pin_length=4)
    policy = LockoutPolicy.for_length(4)  # 10 in a window, 100 in all
    left = 3
    uow = _uow(database_url)
    with uow:
        uow.session.execute(
            update(User)
            .where(User.upn == "ada@contoso.com")
            .values(pin_total_failures=policy.global_limit - left)
        )
        uow.commit()
    workers, tries = 8, 4

    outcomes = _run(database_url, [[{"digits": digits, "pin": wrong, "caller": CALLER}] * tries] * workers)

    assert [o["errors"] for o in outcomes] == [[]] * workers
    assert _reasons(outcomes) == {dialin.WRONG_PIN: left, dialin.PIN_LOCKED: workers * tries - left}
    total, _locked, for_good = _pin_state(database_url)
    assert (total, for_good) == (policy.global_limit, True)


def test_parallel_wrong_ids_from_one_caller_are_each_counted_and_never_fail(database_url: str) -> None:
    uow = _uow(database_url)
    make_tenant(uow)
    nobody = "2000000" if make_user(uow, "ada@contoso.com").conference_id != "2000000" else "3000000"
    workers, tries = 8, 5
    generous = dialin.CallerPolicy(max_failures=10_000)  # counting only: nobody gets locked out here
    plan = [{"digits": nobody, "caller": CALLER, "policy": generous}] * tries

    outcomes = _run(database_url, [plan] * workers)

    assert [o["errors"] for o in outcomes] == [[]] * workers
    assert _reasons(outcomes) == {dialin.NOT_VALID: workers * tries}
    with uow:
        counted = uow.session.scalars(
            select(DialinFailure.failures).where(DialinFailure.caller == CALLER)
        ).all()
    assert counted == [workers * tries]


@pytest.mark.postgres
def test_parallel_first_wrong_ids_lock_the_caller_out_once_and_never_fail(pg_url: str) -> None:
    database_url = pg_url
    uow = _uow(database_url)
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    nobody = "2000000" if right != "2000000" else "3000000"
    workers = 10  # twice the default limit of 5, all the caller's first wrong IDs at once

    outcomes = _run(database_url, [[{"digits": nobody, "caller": CALLER}]] * workers)

    assert [o["errors"] for o in outcomes] == [[]] * workers
    answers = [a for o in outcomes for a in o["answers"]]
    assert {result for result, _reason, _locked in answers} == {"reject"}
    # the fifth counted wrong ID locks the caller; the later ones find the lock
    assert (
        sum(locked for _result, _reason, locked in answers)
        == workers - dialin.CallerPolicy().max_failures + 1
    )
    late = dialin.lookup(uow, number=SEATTLE, digits=str(right), caller=CALLER, actor=OPERATOR)
    assert late.reason == dialin.CALLER_LOCKED
