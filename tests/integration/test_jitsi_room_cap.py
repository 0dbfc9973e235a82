"""The public Jitsi conference mapper's cap on new rooms holds under parallel requests (SQLite and PostgreSQL).

Each request is a separate OS process ('spawn': its own interpreter, engine and connections), all
released at the same moment by a barrier, as parallel browsers asking one dialconf serve would be.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from dialconf.services import jitsi
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.models import AuditEvent, JitsiRoom
from dialconf.store.uow import UnitOfWork
from tests.integration.builders import make_tenant
from tests.support.processes import run_at_once

MUC = "conference.meet.contoso.com"
TIMEOUT = 120


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)), pin_key=lambda: b"jitsi-cap-test-key")


def _ask(url: str, worker: int, room: str, barrier: Any, results: Any) -> None:
    uow = _uow(url)
    barrier.wait(timeout=TIMEOUT)
    try:
        jitsi.id_for_room(uow, conference=f"{room}@{MUC}", client=f"192.0.2.{worker}")
        outcome = "mapped"
    except jitsi.JitsiRoomsFull:
        outcome = "full"
    except Exception as exc:  # a raw database error: what this test hunts for
        outcome = f"{type(exc).__name__}: {exc}"
    results.put({"worker": worker, "outcome": outcome})


def test_parallel_new_rooms_never_pass_the_cap_and_the_episode_is_audited_once(database_url: str) -> None:
    uow = _uow(database_url)
    make_tenant(uow, jitsi_muc_domain=MUC, dialin_limits={"jitsi_max_rooms": 3})
    jitsi.id_for_room(uow, conference=f"kept@{MUC}")  # one room mapped before the rush

    outcomes = run_at_once(_ask, database_url, [f"room{n}" for n in range(6)], timeout=TIMEOUT, name="browser")

    assert Counter(o["outcome"] for o in outcomes) == {"mapped": 2, "full": 4}
    with uow.read():
        rooms = uow.session.scalar(select(func.count()).select_from(JitsiRoom))
        audited = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "jitsi.rooms.full")).all()
    assert rooms == 3
    assert len(audited) == 1
    assert jitsi.id_for_room(uow, conference=f"Kept@{MUC}").conference == f"kept@{MUC}"  # still resolves
