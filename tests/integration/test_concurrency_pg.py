"""Many OS processes allocating conference IDs on one PostgreSQL bridge at once (DESIGN §2 rule 6).

Each worker is a separate process started with 'spawn' (its own interpreter, engine and connections),
released at the same moment by a barrier. A worker records every outcome: success, a clear
DialconfError, or anything else (a raw database error, which must never happen).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from dialconf.errors import DialconfError
from dialconf.services import resets, users
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.models import AuditEvent, Bridge, ConferenceIdRow, OutboxMail, User
from dialconf.store.uow import UnitOfWork
from tests.integration.builders import OPERATOR, count_rows, make_tenant, make_user
from tests.support.processes import run_at_once

pytestmark = pytest.mark.postgres

KEY = b"concurrency-test-key"
WORKERS = 4
TIMEOUT = 90


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)), pin_key=lambda: KEY)


def _work(url: str, worker: int, plan: list[tuple[str, str]], barrier: Any, results: Any) -> None:
    """Run `plan` (("enable" | "reset", upn) steps) in this process and report every outcome."""
    uow = _uow(url)
    outcome: dict[str, Any] = {"worker": worker, "ids": {}, "resets": [], "refused": [], "errors": []}
    barrier.wait(timeout=TIMEOUT)
    for action, upn in plan:
        try:
            if action == "enable":
                result = users.enable_user(
                    uow, tenant="contoso", upn=upn, email=upn, name=upn.split("@")[0], actor=OPERATOR
                )
                assert result.user is not None
                outcome["ids"][upn] = result.user.conference_id
            else:
                reset = resets.reset_conference_id(uow, upn=upn, actor=OPERATOR)
                outcome["ids"][upn] = reset.conference_id
                outcome["resets"].append((upn, reset.previous_conference_id, reset.conference_id))
        except DialconfError as exc:
            outcome["refused"].append(f"{action} {upn}: {type(exc).__name__}: {exc.message}")
        except Exception as exc:  # a raw database error or a bug: exactly what this test hunts for
            outcome["errors"].append(f"{action} {upn}: {type(exc).__name__}: {exc}")
    results.put(outcome)


def _run_workers(url: str, plans: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
    return run_at_once(_work, url, plans, timeout=TIMEOUT, name="allocator")


def _live_ids_by_user(uow: UnitOfWork) -> dict[str, list[str]]:
    with uow:
        rows = uow.session.execute(
            select(User.upn, ConferenceIdRow.digits)
            .join(ConferenceIdRow, ConferenceIdRow.owner_user_id == User.id)
            .where(ConferenceIdRow.state == "live")
        )
        live: dict[str, list[str]] = {}
        for upn, digits in rows:
            live.setdefault(upn, []).append(digits)
        return live


def _assert_bridge_is_consistent(uow: UnitOfWork) -> None:
    with uow:
        duplicates = uow.session.execute(
            select(ConferenceIdRow.bridge_id, ConferenceIdRow.digits)
            .group_by(ConferenceIdRow.bridge_id, ConferenceIdRow.digits)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        in_use = uow.session.scalar(select(Bridge.ids_in_use))
        rows = uow.session.scalar(select(func.count()).select_from(ConferenceIdRow))
        assert in_use == rows, "the bridge's in-use counter drifted from its rows"


def test_processes_enabling_and_resetting_at_once_never_share_an_id_or_surface_a_raw_error(
    pg_url: str,
) -> None:
    uow = _uow(pg_url)
    make_tenant(uow)
    per_worker, rounds = 5, 2
    plans = []
    for w in range(WORKERS):
        mine = [f"w{w}u{i}@contoso.com" for i in range(per_worker)]
        plans.append(
            [("enable", upn) for upn in mine] + [("reset", upn) for _ in range(rounds) for upn in mine]
        )

    outcomes = _run_workers(pg_url, plans)

    assert [o["errors"] for o in outcomes] == [[]] * WORKERS
    assert [o["refused"] for o in outcomes] == [[]] * WORKERS
    enabled = WORKERS * per_worker
    resets_done = enabled * rounds
    live = _live_ids_by_user(uow)
    assert len(live) == enabled
    assert all(len(ids) == 1 for ids in live.values()), "a user holds more than one live ID"
    reported = {upn: digits for o in outcomes for upn, digits in o["ids"].items()}
    assert reported == {upn: ids[0] for upn, ids in live.items()}
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.state == "quarantined") == resets_done
    assert count_rows(uow, AuditEvent, AuditEvent.action == "user.reset_conference_id") == resets_done
    assert count_rows(uow, OutboxMail, OutboxMail.kind == "welcome") == enabled
    assert count_rows(uow, OutboxMail, OutboxMail.kind == "conference_id_changed") == resets_done
    _assert_bridge_is_consistent(uow)


def test_processes_resetting_the_same_users_at_once_leave_each_with_exactly_one_live_id(pg_url: str) -> None:
    uow = _uow(pg_url)
    make_tenant(uow)
    targets = ["ada@contoso.com", "bob@contoso.com"]
    for upn in targets:
        make_user(uow, upn)
    plans = [[("reset", upn) for _ in range(4) for upn in targets] for _ in range(WORKERS)]

    outcomes = _run_workers(pg_url, plans)

    assert [o["errors"] for o in outcomes] == [[]] * WORKERS
    for refusal in (r for o in outcomes for r in o["refused"]):
        assert "try again" in refusal  # a lost race is a clear, retryable refusal
    done = [step for o in outcomes for step in o["resets"]]
    assert done, "no reset succeeded"
    released = Counter((upn, previous) for upn, previous, _new in done)
    assert max(released.values()) == 1, "two resets replaced the same ID, so both new IDs stayed live"
    live = _live_ids_by_user(uow)
    assert {upn: len(ids) for upn, ids in live.items()} == dict.fromkeys(targets, 1)
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.state == "quarantined") == len(done)
    assert count_rows(uow, AuditEvent, AuditEvent.action == "user.reset_conference_id") == len(done)
    _assert_bridge_is_consistent(uow)
