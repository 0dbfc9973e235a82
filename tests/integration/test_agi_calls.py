"""Calls through `dialconf agi`: a test peer plays Asterisk over a real TCP socket (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from random import Random

import pytest

from dialconf.cli.agi import parse_sounds, start_agi
from dialconf.services import jitsi, resets, tenants
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.uow import UnitOfWork
from tests.conftest import TEST_KEY
from tests.integration.builders import OPERATOR, make_tenant, make_user
from tests.support.asterisk import DROP, HANGUP, Call, send_raw


@dataclass
class Line:
    """A running `dialconf agi` on a free port, over a seeded database."""

    port: int
    uow: Callable[[], UnitOfWork]
    ada: str  # ada@contoso.com's conference ID
    bob: str

    def call(self, *entries: str, caller: str = "+12065550111", number: str = "+14255550100") -> Call:
        return Call(self.port, caller=caller, number=number)


@pytest.fixture
def line(sqlite_url: str) -> Iterator[Line]:
    factory = make_session_factory(make_engine(sqlite_url))

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, pin_key=lambda: TEST_KEY.encode(), rng=Random())

    make_tenant(uow())
    ada = make_user(uow(), "ada@contoso.com").conference_id
    bob = make_user(uow(), "bob@contoso.com").conference_id
    assert ada and bob
    server = start_agi("127.0.0.1:0", uow, OPERATOR)
    try:
        yield Line(port=server.sock.getsockname()[1], uow=uow, ada=ada, bob=bob)
    finally:
        server.stop()


def _wrong(right: str) -> str:
    return ("2" if right[0] != "2" else "3") + right[1:]


def test_a_call_with_the_right_id_joins_the_organizers_room(line: Line) -> None:
    call = Call(line.port).run([line.ada + "#"])
    assert call.commands[0] == "ANSWER"
    assert call.commands[1] == 'SET VARIABLE CHANNEL(language) "en"'
    assert call.prompts == ["conf-getconfno"]
    assert call.variables == {
        "CHANNEL(language)": "en",
        "DIALCONF_RESULT": "join",
        "DIALCONF_ROOM": f"contoso-{line.ada}",
        "DIALCONF_ROLE": "participant",
        "DIALCONF_ORGANIZER": "ada@contoso.com",
    }
    assert not call.hung_up_by_server and call.closed_by_server  # back to the dialplan


def test_an_id_ended_by_the_timeout_instead_of_hash_still_joins(line: Line) -> None:
    call = Call(line.port).run([line.bob])  # no '#': GET DATA ends on its timeout
    assert (call.result, call.variables["DIALCONF_ORGANIZER"]) == ("join", "bob@contoso.com")


def test_a_wrong_id_then_the_right_one_joins_after_the_invalid_prompt(line: Line) -> None:
    call = Call(line.port).run([_wrong(line.ada) + "#", line.ada + "#"])
    assert call.prompts == ["conf-getconfno", "conf-getconfno"]
    assert call.sounds == ["conf-invalid"]
    assert (call.result, call.variables["DIALCONF_ROOM"]) == ("join", f"contoso-{line.ada}")


def test_three_wrong_ids_end_with_goodbye_and_a_hangup(line: Line) -> None:
    wrong = _wrong(line.ada) + "#"
    call = Call(line.port).run([wrong, wrong, wrong])
    assert call.prompts == ["conf-getconfno"] * 3
    assert call.sounds == ["conf-invalid", "conf-invalid", "conf-invalid", "vm-goodbye"]
    assert call.result == "rejected"
    assert "DIALCONF_ROOM" not in call.variables
    assert call.hung_up_by_server and call.commands[-1] == "HANGUP"


def test_a_caller_hanging_up_while_prompted_is_recorded_as_hangup(line: Line) -> None:
    call = Call(line.port).run([HANGUP])
    assert call.result == "hangup"
    assert call.closed_by_server and not call.hung_up_by_server


def test_a_connection_dropped_mid_call_leaves_the_server_answering_others(line: Line) -> None:
    dropped = Call(line.port).run([_wrong(line.ada) + "#", DROP])
    assert dropped.sounds == ["conf-invalid"]
    after = Call(line.port).run([line.ada + "#"])
    assert after.result == "join"


def test_star_and_the_pin_join_as_leader_and_a_wrong_pin_is_asked_again(line: Line) -> None:
    pin = resets.reset_pin(line.uow(), upn="ada@contoso.com", actor=OPERATOR, send_email=False).pin
    assert pin is not None
    wrong_pin = "".join(str((int(d) + 1) % 10) for d in pin)

    led = Call(line.port).run([f"{line.ada}*{pin}#"])
    assert (led.result, led.variables["DIALCONF_ROLE"]) == ("join", "leader")

    retried = Call(line.port).run([f"{line.ada}*{wrong_pin}#", f"{line.ada}*#", pin + "#"])
    assert retried.sounds == ["conf-invalidpin"]
    assert retried.prompts == ["conf-getconfno", "conf-getconfno", "conf-getpin"]
    assert (retried.result, retried.variables["DIALCONF_ROLE"]) == ("join", "leader")


def test_after_a_reset_between_two_calls_the_old_id_is_refused(line: Line) -> None:
    assert Call(line.port).run([line.ada + "#"]).result == "join"
    new = resets.reset_conference_id(line.uow(), upn="ada@contoso.com", actor=OPERATOR, send_email=False)
    fresh = new.conference_id
    assert fresh and fresh != line.ada

    old = Call(line.port, caller="+12065550133").run([line.ada + "#"] * 3)
    assert old.result == "rejected"
    renewed = Call(line.port, caller="+12065550133").run([fresh + "#"])
    assert (renewed.result, renewed.variables["DIALCONF_ROOM"]) == ("join", f"contoso-{fresh}")


def test_a_dialed_number_that_is_not_a_service_number_is_rejected_at_once(line: Line) -> None:
    call = Call(line.port, number="+12125550199").run([line.ada + "#"])
    assert call.result == "rejected" and call.hung_up_by_server


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\n",
        b"agi_network: yes\n" + b"x" * 20000 + b"\n\n",
        bytes(range(256)) * 4,
    ],
)
def test_garbage_instead_of_a_header_block_closes_only_that_connection(line: Line, garbage: bytes) -> None:
    assert send_raw(line.port, garbage) == b""  # not a single command was sent to it
    assert Call(line.port).run([line.ada + "#"]).result == "join"


def test_two_hundred_concurrent_calls_are_all_answered_correctly(line: Line) -> None:
    def one(n: int) -> tuple[str | None, str | None]:
        right = line.ada if n % 2 else line.bob
        entries = [_wrong(right) + "#", right + "#"] if n % 5 == 0 else [right + "#"]
        call = Call(line.port, caller=f"+1206555{n:04d}", timeout=120).run(entries)
        return call.result, call.variables.get("DIALCONF_ORGANIZER")

    with ThreadPoolExecutor(max_workers=200) as pool:
        outcomes = list(pool.map(one, range(200)))
    expected = [("join", "ada@contoso.com" if n % 2 else "bob@contoso.com") for n in range(200)]
    assert outcomes == expected


def test_prompts_can_use_other_sound_files(sqlite_url: str) -> None:
    factory = make_session_factory(make_engine(sqlite_url))

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, pin_key=lambda: TEST_KEY.encode(), rng=Random())

    make_tenant(uow())
    ada = make_user(uow(), "ada@contoso.com").conference_id
    assert ada
    prompts = parse_sounds(["get_id=custom/enter-id", "invalid_id=custom/nope"])
    server = start_agi("127.0.0.1:0", uow, OPERATOR, prompts)
    try:
        call = Call(server.sock.getsockname()[1]).run([_wrong(ada) + "#", ada + "#"])
    finally:
        server.stop()
    assert (call.prompts, call.sounds, call.result) == (["custom/enter-id"] * 2, ["custom/nope"], "join")


def test_a_call_to_a_jitsi_rooms_id_joins_that_room_without_an_organizer(line: Line) -> None:
    tenants.update_settings(
        line.uow(), name="contoso", actor=OPERATOR, jitsi_muc_domain="conference.meet.contoso.com"
    )
    mapped = jitsi.id_for_room(line.uow(), conference="Standup@conference.meet.contoso.com")
    call = Call(line.port).run([mapped.digits + "#"])
    assert call.variables == {
        "CHANNEL(language)": "en",
        "DIALCONF_RESULT": "join",
        "DIALCONF_ROOM": "standup@conference.meet.contoso.com",
        "DIALCONF_ROLE": "participant",
        "DIALCONF_ORGANIZER": "",
    }
