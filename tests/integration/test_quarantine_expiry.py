"""A chosen ID whose quarantine has ended is free again, by every path that takes a chosen ID (DESIGN §2 rule 7).

Its released row is still in the table, with state 'quarantined'; taking the ID again must make
that row live for the new owner, not insert a second one that the unique (bridge, digits)
constraint refuses. The clock is the unit of work's, moved past the quarantine.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialconf.errors import ConferenceIdQuarantined
from dialconf.services import dialin, importing, resets, users
from dialconf.store.models import Bridge, ConferenceIdRow
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, SEATTLE, FakeClock, count_rows, make_tenant, make_user

CHOSEN = "2468024"


def released_world(database_url: str) -> tuple[UnitOfWork, FakeClock]:
    """Ada had CHOSEN and was disabled: the ID sits in a 7-day quarantine; Bob is a user with another ID."""
    clock = FakeClock()
    uow = make_uow(database_url, clock=clock)
    make_tenant(uow, id_quarantine_days=7)
    make_user(uow, "ada@contoso.com", conference_id=CHOSEN)
    make_user(uow, "bob@contoso.com")
    users.disable_user(uow, upn="ada@contoso.com", actor=OPERATOR)
    return uow, clock


def import_csv(uow: UnitOfWork, *, dry_run: bool) -> importing.ImportReport:
    text = f"upn,email,name,conference_id\ncid@contoso.com,cid@contoso.com,Cid Campeador,{CHOSEN}\n"
    return importing.import_users(
        uow, tenant="contoso", rows=importing.read_csv(text), actor=OPERATOR, dry_run=dry_run
    )


def ids_in_use(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.scalar(select(Bridge.ids_in_use)) or 0)


def owner_reached(uow: UnitOfWork) -> str | None:
    result = dialin.lookup(uow, number=SEATTLE, digits=CHOSEN, caller="+12065550123", actor=OPERATOR)
    return result.upn if result.result == "join" else None


def assert_one_live_row(uow: UnitOfWork, in_use_before: int) -> None:
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.digits == CHOSEN) == 1
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.digits == CHOSEN, ConferenceIdRow.state == "live") == 1
    # the quarantined row counted as in use already; making it live again adds nothing
    assert ids_in_use(uow) == in_use_before


def test_import_takes_a_chosen_id_whose_quarantine_has_just_ended(database_url: str) -> None:
    uow, clock = released_world(database_url)
    clock.advance(days=7, seconds=1)
    in_use = ids_in_use(uow)

    assert import_csv(uow, dry_run=True).rows == 1
    report = import_csv(uow, dry_run=False)

    assert report.imported == 1
    assert_one_live_row(uow, in_use)
    assert owner_reached(uow) == "cid@contoso.com"


def test_import_still_refuses_a_chosen_id_one_second_before_its_quarantine_ends(database_url: str) -> None:
    uow, clock = released_world(database_url)
    clock.advance(days=7, seconds=-1)

    with pytest.raises(importing.ImportRejected, match=f"conference ID {CHOSEN} is quarantined until"):
        import_csv(uow, dry_run=False)
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.state == "live") == 1  # Bob's only


def test_set_conference_id_takes_an_id_whose_quarantine_has_ended(database_url: str) -> None:
    uow, clock = released_world(database_url)
    with pytest.raises(ConferenceIdQuarantined):
        resets.set_conference_id(uow, upn="bob@contoso.com", digits=CHOSEN, actor=OPERATOR)
    clock.advance(days=8)
    in_use = ids_in_use(uow)

    resets.set_conference_id(uow, upn="bob@contoso.com", digits=CHOSEN, actor=OPERATOR)

    # Bob's old ID went into quarantine (still counted), CHOSEN came back from it
    assert_one_live_row(uow, in_use)
    assert owner_reached(uow) == "bob@contoso.com"


def test_enabling_a_user_with_an_id_whose_quarantine_has_ended_reuses_it(database_url: str) -> None:
    uow, clock = released_world(database_url)
    clock.advance(days=8)
    in_use = ids_in_use(uow)

    make_user(uow, "cid@contoso.com", conference_id=CHOSEN)

    assert_one_live_row(uow, in_use)
    assert owner_reached(uow) == "cid@contoso.com"
