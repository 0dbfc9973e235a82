"""`dialconf agi` and `dialconf up` answer calls as separate processes; a caller lockout is shared
between two `dialconf agi` processes on one PostgreSQL database."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ENABLE_ADA, TEST_KEY, Cli, seed_tenant
from tests.support.asterisk import Call
from tests.support.smtp import WorkerProcess

MALLORY = "+12065550111"
ALICE = "+12065550122"


@contextmanager
def running(cli: Cli, *args: str, actor: str | None = None) -> Iterator[int]:
    """A `dialconf` process serving FastAGI; yields its port once it says it listens."""
    env = {"DIALCONF_DATABASE_URL": cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    if actor:
        env["DIALCONF_ACTOR"] = actor
    process = WorkerProcess(env, *args)
    try:
        process.wait_for_line("agi://")
        found = re.search(r"agi://127\.0\.0\.1:(\d+)", process.output)
        assert found, process.output
        yield int(found.group(1))
        process.signal(signal.SIGTERM)
        assert process.wait() == 0, process.output
    finally:
        process.stop()


def _seeded(cli: Cli) -> str:
    seed_tenant(cli)
    conference_id = cli.ok(*ENABLE_ADA)["conference_id"]
    assert isinstance(conference_id, str)
    return conference_id


def _wrong(right: str) -> str:
    return ("2" if right[0] != "2" else "3") + right[1:]


@pytest.mark.slow
def test_dialconf_agi_answers_a_call_on_the_port_it_prints(sqlite_cli: Cli) -> None:
    ada = _seeded(sqlite_cli)
    with running(sqlite_cli, "agi", "--listen", "127.0.0.1:0") as port:
        call = Call(port).run([ada + "#"])
    assert (call.result, call.variables["DIALCONF_ORGANIZER"]) == ("join", "ada@contoso.com")


@pytest.mark.slow
def test_a_pbx_account_runs_dialconf_agi_for_its_tenants_numbers_only(sqlite_cli: Cli) -> None:
    ada = _seeded(sqlite_cli)
    sqlite_cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    sqlite_cli.ok("bridge", "create", "fabrikam", "main")
    sqlite_cli.ok("number", "add", "fabrikam", "+12065550100")
    sqlite_cli.ok(
        "admin", "create", "pbx@fabrikam.com", "--tenant", "fabrikam", "--role", "pbx", stdin="password1\n"
    )
    with running(sqlite_cli, "agi", "--listen", "127.0.0.1:0", actor="pbx@fabrikam.com") as port:
        call = Call(port).run([ada + "#"])  # contoso's number: not one this pbx account answers for
    assert call.result == "rejected" and call.hung_up_by_server
    assert "CHANNEL(language)" not in call.variables  # it learns nothing of the other tenant's number


@pytest.mark.slow
def test_dialconf_up_answers_calls_too(sqlite_cli: Cli) -> None:
    ada = _seeded(sqlite_cli)
    with running(sqlite_cli, "up", "--port", "0", "--agi-listen", "127.0.0.1:0") as port:
        call = Call(port).run([ada + "#"])
    assert call.result == "join"


def test_an_admin_account_may_not_run_the_agi_server(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(
        "admin", "create", "boss@contoso.com", "--tenant", "contoso", "--role", "admin", stdin="password1\n"
    )
    refused = sqlite_cli("--as", "boss@contoso.com", "agi", "--listen", "127.0.0.1:0")
    assert refused.code == 1 and refused.err.startswith("dialconf: ") and len(refused.err.splitlines()) == 1


def test_a_malformed_listen_address_is_refused_in_one_line(sqlite_cli: Cli) -> None:
    refused = sqlite_cli("agi", "--listen", "localhost")
    assert (refused.code, refused.err) == (
        1,
        "dialconf: --listen takes HOST:PORT (e.g. 127.0.0.1:4573), not 'localhost'\n",
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_a_caller_locked_out_through_one_agi_process_is_refused_by_another(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(pg_url, monkeypatch, capsys)
    cli.ok("db", "upgrade")
    ada = _seeded(cli)
    wrong = _wrong(ada) + "#"
    with (
        running(cli, "agi", "--listen", "127.0.0.1:0") as first,
        running(cli, "agi", "--listen", "127.0.0.1:0") as second,
    ):
        assert Call(first, caller=MALLORY).run([wrong] * 3).result == "rejected"
        locking = Call(first, caller=MALLORY).run([wrong, wrong])  # the fifth wrong ID locks the caller
        assert locking.result == "locked" and locking.hung_up_by_server

        refused = Call(second, caller=MALLORY).run([ada + "#"])
        assert refused.result == "locked" and "DIALCONF_ROOM" not in refused.variables
        other = Call(second, caller=ALICE).run([ada + "#"])
        assert (other.result, other.variables["DIALCONF_ORGANIZER"]) == ("join", "ada@contoso.com")


def test_an_unknown_prompt_name_is_refused_in_one_line(sqlite_cli: Cli) -> None:
    refused = sqlite_cli("agi", "--listen", "127.0.0.1:0", "--sound", "welcome=hello")
    assert refused.code == 1
    assert refused.err == (
        "dialconf: --sound takes NAME=FILE with NAME one of get_id, invalid_id, get_pin, invalid_pin, "
        "goodbye, not 'welcome=hello'\n"
    )
