"""Guessing protection as tenant settings: the caller lockout and the bridge limit (docs/dialin-security.md)."""

from __future__ import annotations

from random import Random

import pytest
from sqlalchemy import select

from dialconf.errors import InvalidSetting
from dialconf.services import dialin, tenants
from dialconf.services.views import LookupResult
from dialconf.store.models import AuditEvent
from dialconf.store.uow import UnitOfWork
from tests.conftest import Cli, make_uow, seed_tenant
from tests.integration.builders import OPERATOR, SEATTLE, FakeClock, make_tenant, make_user


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(database_url: str, clock: FakeClock) -> UnitOfWork:
    return make_uow(database_url, clock=clock, rng=Random(5))


def _call(uow: UnitOfWork, digits: str, caller: str) -> LookupResult:
    return dialin.lookup(uow, number=SEATTLE, digits=digits, caller=caller, actor=OPERATOR)


def _wrong(right: str) -> str:
    return ("2" if right[0] != "2" else "3") + right[1:]


def _slowed_events(uow: UnitOfWork) -> list[str]:
    """The targets of the bridge-slowed audit events."""
    with uow:
        return list(
            uow.session.scalars(select(AuditEvent.target).where(AuditEvent.action == "dialin.bridge.slowed"))
        )


def test_over_the_bridge_limit_every_call_is_slowed_not_refused_and_one_event_is_written(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    make_tenant(uow, dialin_limits={"dialin_bridge_max_failures": 10, "dialin_bridge_delay_seconds": 4})
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right
    # ten callers, one wrong ID each: no caller is locked out, but the bridge sees ten wrong IDs
    tries = [_call(uow, _wrong(right), f"+1206555{n:04d}") for n in range(10)]
    assert [t.delay_seconds for t in tries] == [0] * 9 + [4]
    assert _call(uow, right, "+12065559999") == LookupResult(
        result="join",
        reason="participant",
        upn="ada@contoso.com",
        room=f"contoso-{right}",
        tenant="contoso",
        bridge="main",
        language="en-US",
        delay_seconds=4,
    )
    more = [_call(uow, _wrong(right), f"+1206556{n:04d}") for n in range(15)]
    assert {t.delay_seconds for t in more} == {4}
    assert _slowed_events(uow) == ["contoso/main"]

    clock.advance(hours=1, seconds=1)  # the episode is over; the next wrong IDs count afresh
    assert _call(uow, right, "+12065559999").delay_seconds == 0
    assert _call(uow, _wrong(right), "+12065559998").delay_seconds == 0
    assert _slowed_events(uow) == ["contoso/main"]


def test_the_caller_lockout_follows_the_tenants_settings(uow: UnitOfWork, clock: FakeClock) -> None:
    make_tenant(
        uow,
        dialin_limits={
            "dialin_caller_max_failures": 2,
            "dialin_caller_window_minutes": 5,
            "dialin_caller_lockout_minutes": 60,
        },
    )
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right
    assert _call(uow, _wrong(right), "+12065550111").locked_until is None
    locking = _call(uow, _wrong(right), "+12065550111")
    assert locking.locked_until is not None and locking.locked_until - clock.current == dialin.timedelta(
        minutes=60
    )
    assert _call(uow, right, "+12065550111").reason == dialin.CALLER_LOCKED
    assert _call(uow, right, "+12065550122").result == "join"


def test_a_withheld_caller_id_shares_one_counter(uow: UnitOfWork) -> None:
    make_tenant(uow, dialin_limits={"dialin_caller_max_failures": 3})
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right
    for caller in ("", "anonymous", ""):
        _call(uow, _wrong(right), caller)
    assert _call(uow, right, "").reason == dialin.CALLER_LOCKED


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"dialin_caller_max_failures": 0},
            "wrong IDs a caller may enter before the lockout must be 1 to 20, not 0",
        ),
        (
            {"dialin_bridge_delay_seconds": 31},
            "seconds every call waits on a slowed bridge must be 0 to 30, not 31",
        ),
    ],
)
def test_dialin_limits_out_of_range_are_refused(
    uow: UnitOfWork, limits: dict[str, int], message: str
) -> None:
    make_tenant(uow)
    with pytest.raises(InvalidSetting) as refused:
        tenants.update_settings(uow, name="contoso", actor=OPERATOR, dialin_limits=limits)
    assert refused.value.message == message


def test_tenant_set_changes_the_dialin_limits_and_shows_them(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    shown = sqlite_cli.ok(
        "tenant", "set", "contoso", "--dialin-caller-max-failures", "3", "--dialin-bridge-max-failures", "500",
        "--dialin-bridge-delay", "8", "--dialin-caller-window", "20", "--dialin-caller-lockout", "45",
    )  # fmt: skip
    assert {k: v for k, v in shown.items() if k.startswith("dialin_")} == {
        "dialin_caller_max_failures": 3,
        "dialin_caller_window_minutes": 20,
        "dialin_caller_lockout_minutes": 45,
        "dialin_bridge_max_failures": 500,
        "dialin_bridge_delay_seconds": 8,
    }
    text = sqlite_cli("tenant", "set", "contoso").out
    assert "after 3 wrong IDs in 20 min, for 45 min" in text
    assert "over 500 wrong IDs an hour, calls wait 8 s" in text


def test_only_the_operator_sets_the_jitsi_muc_domain_and_two_tenants_cannot_share_one(
    sqlite_cli: Cli,
) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    set_ = sqlite_cli.ok("tenant", "set", "contoso", "--jitsi-muc-domain", "Conference.Meet.Contoso.com")
    assert set_["jitsi_muc_domain"] == "conference.meet.contoso.com"
    taken = sqlite_cli("tenant", "set", "fabrikam", "--jitsi-muc-domain", "conference.meet.contoso.com")
    assert taken.code == 1 and "contoso" not in taken.err.replace("conference.meet.contoso.com", "")
    sqlite_cli.ok(
        "admin", "create", "boss@contoso.com", "--tenant", "contoso", "--role", "admin", stdin="password1\n"
    )
    refused = sqlite_cli(
        "--as", "boss@contoso.com", "tenant", "set", "contoso", "--jitsi-muc-domain", "x.example.org"
    )
    assert (
        refused.code == 1
        and refused.err == "dialconf: only the operator may set the Jitsi MUC domain of a tenant\n"
    )
    cleared = sqlite_cli.ok("tenant", "set", "contoso", "--jitsi-muc-domain", "")
    assert cleared["jitsi_muc_domain"] is None
