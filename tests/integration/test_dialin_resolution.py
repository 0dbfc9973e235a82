"""How the dial-in service reads what a PBX passes on: the dialed number in any common form, the digits."""

from __future__ import annotations

import pytest

from dialconf.errors import InvalidPhoneNumber
from dialconf.services import bridges, dialin
from dialconf.store.uow import UnitOfWork
from tests.integration.builders import OPERATOR, make_tenant, make_user

LONDON = "+442079460000"


@pytest.fixture
def ada(uow: UnitOfWork) -> str:
    make_tenant(uow)
    bridges.add_number(uow, tenant="contoso", number=LONDON, actor=OPERATOR, languages=["en-GB"])
    conference_id = make_user(uow, "ada@contoso.com").conference_id
    assert conference_id
    return conference_id


@pytest.mark.parametrize(
    "dialed",
    [
        "+14255550100",
        "14255550100",
        "tel:+1-425-555-0100",
        "sip:+14255550100@trunk.example.org;user=phone",
        "001 425 555 0100",
        "(425) 555-0100",
        "4255550100",
    ],
)
def test_the_dialed_number_resolves_in_any_common_form(uow: UnitOfWork, ada: str, dialed: str) -> None:
    found = dialin.lookup(uow, number=dialed, digits=ada, actor=OPERATOR)
    assert (found.result, found.upn, found.room) == ("join", "ada@contoso.com", f"contoso-{ada}")


def test_a_national_number_is_read_in_the_country_of_a_service_number(uow: UnitOfWork, ada: str) -> None:
    found = dialin.lookup(uow, number="020 7946 0000", digits=ada, actor=OPERATOR)
    assert (found.result, found.language) == ("join", "en-GB")


def test_digits_with_spaces_and_a_trailing_hash_resolve(uow: UnitOfWork, ada: str) -> None:
    typed = f" {ada[:3]} {ada[3:]} #"
    assert dialin.lookup(uow, number="+14255550100", digits=typed, actor=OPERATOR).result == "join"


def test_the_answer_carries_the_service_numbers_language(uow: UnitOfWork, ada: str) -> None:
    assert dialin.lookup(uow, number="+14255550100", digits=ada, actor=OPERATOR).language == "en-US"
    assert dialin.number_language(uow, number="442079460000", actor=OPERATOR) == "en-GB"
    assert dialin.number_language(uow, number="+12125550199", actor=OPERATOR) is None  # not ours
    assert dialin.number_language(uow, number="not a number", actor=OPERATOR) is None


def test_a_number_that_is_no_phone_number_is_refused(uow: UnitOfWork, ada: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        dialin.lookup(uow, number="tel:hello", digits=ada, actor=OPERATOR)


def test_a_joining_call_is_resolved_with_one_statement_and_no_transaction_around_it(
    uow: UnitOfWork, ada: str
) -> None:
    from typing import Any

    from sqlalchemy import event

    with uow:
        engine = uow.session.get_bind()
    sent: list[str] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split()[0].upper())

    dialin.lookup(uow, number="+14255550100", digits=ada, actor=OPERATOR)  # the first call parses and compiles
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        found = dialin.lookup(uow, number="+14255550100", digits=ada, caller="+12065550111", actor=OPERATOR)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert found.result == "join"
    assert sent == ["SELECT"]  # no BEGIN, no write: the caller's lockout is read in the same statement
