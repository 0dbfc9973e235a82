"""`dialconf tenant set --caldav-*`: the calendar is connected and disconnected; its password is never shown."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dialconf.store.db import make_engine
from dialconf.store.models import AuditEvent, Tenant
from tests.e2e.conftest import ADA, ADMIN, HELPDESK, World

SECRET = "Calendar-Secret-4711"
URL = "https://calendar.contoso.com/{upn}/calendar/"


def _connect(world: World, *extra: str) -> dict:
    return world.cli.ok(  # type: ignore[no-any-return]
        "tenant", "set", "contoso", "--caldav-url", URL, "--caldav-username", "dialconf",
        "--caldav-password-stdin", *extra, stdin=SECRET + "\n",
    )  # fmt: skip


def _stored(world: World) -> tuple[str | None, list[str]]:
    """The stored password column of contoso, and every audit row as text."""
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            sealed = conn.scalar(select(Tenant.caldav_password).where(Tenant.name == "contoso"))
            audit = [str(tuple(row)) for row in conn.execute(select(AuditEvent))]
    finally:
        engine.dispose()
    return sealed, audit


def test_connecting_a_calendar_shows_its_url_and_user_but_never_the_password(world: World) -> None:
    shown = _connect(world)
    assert (shown["caldav_url"], shown["caldav_username"], shown["caldav_connected"]) == (URL, "dialconf", True)
    assert "password" not in " ".join(shown)
    for args in (("tenant", "show", "contoso"), ("tenant", "show", "contoso", "--json"), ("tenant", "list", "--json")):
        result = world.cli(*args)
        assert result.code == 0 and SECRET not in result.out + result.err
    assert "calendar.contoso.com" in world.cli("tenant", "show", "contoso").out
    sealed, audit = _stored(world)
    assert sealed is not None and SECRET not in sealed
    assert not any(SECRET in row for row in audit)
    assert any("caldav_password" in row and "***" in row for row in audit)


def test_the_password_can_come_from_a_file(world: World, tmp_path: Path) -> None:
    secret_file = tmp_path / "caldav.pw"
    secret_file.write_text(SECRET + "\n")
    shown = world.cli.ok(
        "tenant", "set", "contoso", "--caldav-url", URL, "--caldav-username", "dialconf",
        "--caldav-password-file", str(secret_file),
    )  # fmt: skip
    assert shown["caldav_connected"] is True
    assert _stored(world)[0] is not None


@pytest.mark.parametrize("disconnect", [("--caldav-url", ""), ("--no-caldav",)])
def test_an_empty_url_or_no_caldav_disconnects_and_forgets_the_password(world: World, disconnect: tuple[str, ...]) -> None:
    _connect(world)
    shown = world.cli.ok("tenant", "set", "contoso", *disconnect)
    assert (shown["caldav_url"], shown["caldav_username"], shown["caldav_connected"]) == (None, None, False)
    assert _stored(world)[0] is None
    assert "not connected" in world.cli("tenant", "show", "contoso").out


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("--caldav-url", "ftp://calendar.contoso.com/x/"), None, "http:// or https://"),
        (("--caldav-url", "calendar.contoso.com"), None, "http:// or https://"),
        (("--caldav-url", f"https://dialconf:{SECRET}@calendar.contoso.com/"), None, "must not hold a user name"),
        (("--caldav-url", "https://calendar.contoso.com/{user}/"), None, "placeholder"),
        (("--caldav-username", "dialconf"), None, "no CalDAV calendar yet"),
        (("--caldav-url", URL, "--caldav-password-stdin"), SECRET + "\n", "needs a user name"),
        (("--caldav-url", URL, "--caldav-username", "x", "--caldav-password-stdin"), "\n", "password is empty"),
        (("--caldav-url", URL, "--caldav-password-file", "/nonexistent/pw"), None, "cannot read"),
    ],
)
def test_bad_caldav_settings_are_refused_with_one_line_and_change_nothing(
    world: World, args: tuple[str, ...], stdin: str | None, words: str
) -> None:
    before = world.state()
    result = world.cli("tenant", "set", "contoso", *args, stdin=stdin)
    assert result.code == 1, result.err
    (line,) = result.err.strip().splitlines()
    assert line.startswith("dialconf: ") and words in line
    assert SECRET not in line
    assert world.state() == before


def test_moving_the_url_to_another_server_needs_the_password_again(world: World) -> None:
    _connect(world)
    moved = world.cli("tenant", "set", "contoso", "--caldav-url", "https://elsewhere.example.net/cal/")
    assert moved.code == 1 and "another server" in moved.err
    same_server = world.cli.ok("tenant", "set", "contoso", "--caldav-url", "https://calendar.contoso.com/team/")
    assert same_server["caldav_url"] == "https://calendar.contoso.com/team/"
    assert _stored(world)[0] is not None


def test_password_from_both_stdin_and_a_file_is_a_usage_error(world: World) -> None:
    result = world.cli(
        "tenant", "set", "contoso", "--caldav-url", URL, "--caldav-password-stdin",
        "--caldav-password-file", "/tmp/pw", stdin="x\n",
    )  # fmt: skip
    assert result.code == 2


def test_a_helpdesk_account_may_not_connect_a_calendar(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", HELPDESK)
    before = world.state()
    result = world.cli(
        "tenant", "set", "contoso", "--caldav-url", URL, "--caldav-username", "u", "--caldav-password-stdin",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert result.code == 1 and SECRET not in result.err
    assert world.state() == before


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5232/{upn}/calendar/",
        "http://localhost/cal/",
        "http://169.254.169.254/latest/",  # a cloud's metadata service
        "https://10.1.2.3/cal/",
        "http://[::1]:8000/api/",
    ],
)
def test_a_tenant_admin_may_not_point_the_calendar_at_the_operators_network(
    world: World, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    before = world.state()
    result = world.cli("tenant", "set", "contoso", "--caldav-url", url)
    assert result.code == 1
    assert result.err.strip() == (
        "dialconf: only the operator may connect a CalDAV calendar on this machine or a private address; "
        "give the calendar's public name"
    )
    assert world.state() == before
    monkeypatch.delenv("DIALCONF_ACTOR")
    assert world.cli.ok("tenant", "set", "contoso", "--caldav-url", url)["caldav_url"] == url  # the operator may


def test_a_tenant_admin_may_connect_a_calendar_by_its_public_name(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    assert _connect(world)["caldav_url"] == URL


def test_tenant_set_help_names_the_caldav_options(world: World) -> None:
    result = world.cli("tenant", "set", "--help")
    for option in ("--caldav-url", "--no-caldav", "--caldav-username", "--caldav-password-stdin", "--caldav-password-file"):
        assert option in result.out


def test_a_name_that_resolves_to_this_machine_is_refused_to_a_tenant_admin_too(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine's own name resolves (through /etc/hosts) to one of its addresses, not a public one."""
    name = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)}
    assert resolved and not any(ipaddress.ip_address(a).is_global for a in resolved), resolved
    url = f"http://{name}:5232/{{upn}}/calendar/"
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    before = world.state()
    result = world.cli("tenant", "set", "contoso", "--caldav-url", url)
    assert result.code == 1 and "only the operator may connect a CalDAV calendar" in result.err
    assert world.state() == before
    monkeypatch.delenv("DIALCONF_ACTOR")
    assert world.cli.ok("tenant", "set", "contoso", "--caldav-url", url)["caldav_url"] == url


def _by_operator(world: World) -> bool:
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(select(Tenant.caldav_url_by_operator).where(Tenant.name == "contoso")))
    finally:
        engine.dispose()


def test_the_worker_does_not_contact_an_admins_calendar_whose_name_now_leads_to_this_machine(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    _connect(world)  # a public name (it does not even resolve here): allowed
    assert _by_operator(world) is False
    monkeypatch.delenv("DIALCONF_ACTOR")
    world.cli.ok(
        "meeting", "schedule", "--organizer", ADA, "--subject", "Sync", "--start", "2030-03-04T09:00",
        "--end", "2030-03-04T10:00", "--attendee", "bob@example.com",
    )  # fmt: skip
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        # the name's DNS record changes after the admin set it: here, this machine's own name
        engine = make_engine(world.url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(Tenant)
                    .where(Tenant.name == "contoso")
                    .values(caldav_url=f"http://{socket.gethostname()}:{port}/{{upn}}/")
                )
        finally:
            engine.dispose()
        result = world.cli("meeting", "migrate", ADA)
        assert result.code == 1
        assert "now leads to this machine or a private address" in result.err
        assert f"{socket.gethostname()}:{port}" in result.err and SECRET not in result.err
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected, so the password went nowhere

    # the operator may set such a URL, and an admin may then save it again unchanged
    internal = f"http://{socket.gethostname()}:{port}/{{upn}}/"
    world.cli.ok("tenant", "set", "contoso", "--caldav-url", internal)
    assert _by_operator(world) is True
    monkeypatch.setenv("DIALCONF_ACTOR", ADMIN)
    world.cli.ok("tenant", "set", "contoso", "--caldav-url", internal, "--caldav-username", "other")
    assert _by_operator(world) is True
    refused = world.cli("tenant", "set", "contoso", "--caldav-url", f"http://127.0.0.1:{port}/x/")
    assert refused.code == 1 and "only the operator" in refused.err
