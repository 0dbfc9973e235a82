"""A meeting's own conference ID (dynamic mode): released when cancelled or ended plus the grace, then quarantined.

The clock is the unit of work's, moved by the test. Allocation draws from the unit of work's random
source: two units of work seeded alike draw the same candidates, so a test can show that a released
ID is skipped while quarantined and handed out again once the quarantine is over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select, update

from dialconf.domain.roles import Actor, Role
from dialconf.errors import Forbidden
from dialconf.services import dialin, meetings
from dialconf.store.models import ConferenceIdRow, Tenant
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, SEATTLE, FakeClock, make_tenant, make_user

DYN = "dyn@contoso.com"
SEED = 20261201
QUARANTINE_DAYS = 7


def _world(database_url: str, *, grace_days: int = 1) -> tuple[UnitOfWork, FakeClock]:
    clock = FakeClock()
    uow = make_uow(database_url, clock=clock)
    make_tenant(uow, mode="dynamic", id_quarantine_days=QUARANTINE_DAYS)
    make_user(uow, DYN)
    with uow:
        uow.session.execute(update(Tenant).values(meeting_id_grace_days=grace_days))
        uow.commit()
    return uow, clock


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _schedule(
    uow: UnitOfWork, start: datetime, *, hours: float = 1, rrule: str | None = None
) -> meetings.MeetingView:
    return meetings.schedule_meeting(
        uow,
        organizer=DYN,
        subject="Sync",
        start=_at(start),
        end=_at(start + timedelta(hours=hours)),
        rrule=rrule,
        actor=OPERATOR,
    )


def _state(uow: UnitOfWork, digits: str) -> str | None:
    with uow:
        return uow.session.scalar(select(ConferenceIdRow.state).where(ConferenceIdRow.digits == digits))


def _dialable(uow: UnitOfWork, digits: str) -> bool:
    return dialin.lookup(uow, number=SEATTLE, digits=digits, caller="+12065550123", actor=OPERATOR).result == "join"


def _release_by_cancel(uow: UnitOfWork, clock: FakeClock, meeting: meetings.MeetingView) -> None:
    meetings.cancel_meeting(uow, meeting_id=meeting.id, actor=OPERATOR)


def _release_by_expiry(uow: UnitOfWork, clock: FakeClock, meeting: meetings.MeetingView) -> None:
    clock.advance(days=2, hours=2)  # past the end (one hour from now) plus the one-day grace
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).meetings == [meeting.id]


@pytest.mark.parametrize("release", [_release_by_cancel, _release_by_expiry], ids=["cancelled", "expired"])
def test_a_released_meeting_id_is_not_handed_out_again_within_the_quarantine(
    database_url: str, release: Callable[[UnitOfWork, FakeClock, meetings.MeetingView], None]
) -> None:
    uow, clock = _world(database_url)
    seeded = make_uow(database_url, clock=clock, rng=Random(SEED))
    first = _schedule(seeded, clock.current)
    assert _dialable(uow, first.conference_id)
    release(uow, clock, first)
    assert _state(uow, first.conference_id) == "quarantined"
    assert not _dialable(uow, first.conference_id)

    # the same draw again, one second before the quarantine ends: the released ID is skipped
    clock.advance(days=QUARANTINE_DAYS - 3)
    within = _schedule(make_uow(database_url, clock=clock, rng=Random(SEED)), clock.current)
    assert within.conference_id != first.conference_id
    assert _state(uow, first.conference_id) == "quarantined"

    # once the quarantine is over, the same draw may hand it out again
    clock.advance(days=3)
    after = _schedule(make_uow(database_url, clock=clock, rng=Random(SEED)), clock.current)
    assert after.conference_id == first.conference_id
    assert _dialable(uow, after.conference_id)


def test_an_ended_meetings_id_is_released_only_after_the_grace(database_url: str) -> None:
    uow, clock = _world(database_url, grace_days=2)
    start = clock.current + timedelta(hours=1)
    one_off = _schedule(uow, start)
    series = _schedule(uow, start, rrule="FREQ=WEEKLY;COUNT=3")
    forever = _schedule(uow, start, rrule="FREQ=WEEKLY;BYDAY=MO")
    one_off_end = start + timedelta(hours=1)
    series_end = one_off_end + timedelta(weeks=2)

    clock.current = one_off_end + timedelta(days=2) - timedelta(seconds=1)
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).released == 0
    assert all(_dialable(uow, m.conference_id) for m in (one_off, series, forever))

    clock.current = one_off_end + timedelta(days=2)
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).meetings == [one_off.id]
    assert not _dialable(uow, one_off.conference_id)
    assert _dialable(uow, series.conference_id)
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).released == 0  # nothing twice

    clock.current = series_end + timedelta(days=2, seconds=-1)
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).released == 0
    clock.current = series_end + timedelta(days=2)
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).meetings == [series.id]
    assert not _dialable(uow, series.conference_id)

    clock.advance(days=3650)  # a series without COUNT or UNTIL never ends
    assert meetings.release_expired_meeting_ids(uow, actor=OPERATOR).released == 0
    assert _dialable(uow, forever.conference_id)
    assert [m.id for m in meetings.list_meetings(uow, actor=OPERATOR, upcoming=True)] == [forever.id]


def test_only_the_operator_runs_the_expiry(database_url: str) -> None:
    uow, _ = _world(database_url)
    admin = Actor(name="admin@contoso.com", role=Role.ADMIN, tenant_id=1, tenant_name="contoso")
    with pytest.raises(Forbidden):
        meetings.release_expired_meeting_ids(uow, actor=admin)
