"""Where the embedded database lives without DIALCONF_DATABASE_URL, `dialconf status`, and one `up` per database.

The commands run as real processes from different folders, with XDG_DATA_HOME (and HOME) pointing
into the test's own temporary folder, so nothing here touches the real per-user data folder.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from dialconf.store.migrate import HEAD_REVISION
from tests.e2e.conftest import ADMIN, HELPDESK, World
from tests.support.outbox import statuses
from tests.support.smtp import dialconf_command, wait_for

TIMEOUT = 120


class Home:
    """A user's environment without DIALCONF_DATABASE_URL or DIALCONF_SECRET_KEY, and two folders to work in."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "xdg-data"
        self.folders = (tmp_path / "first", tmp_path / "second")
        for folder in (tmp_path / "home", *self.folders):
            folder.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
        self.env.update(XDG_DATA_HOME=str(self.data), HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")

    @property
    def folder(self) -> Path:
        return self.data / "dialconf"

    @property
    def database(self) -> Path:
        return self.folder / "dialconf.db"

    def run(self, *args: str, cwd: int = 0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [dialconf_command(), *args],
            env=self.env,
            cwd=self.folders[cwd],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def status(self, cwd: int = 0) -> dict[str, object]:
        done = self.run("status", "--json", cwd=cwd)
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def test_commands_run_from_two_folders_share_one_database_in_the_user_data_folder(home: Home) -> None:
    created = home.run("tenant", "create", "contoso", "--domain", "contoso.com", "--json", cwd=0)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["name"] == "contoso"  # the notice did not spoil the JSON
    assert created.stderr.splitlines() == [f"dialconf: created a new database at {home.database}"]

    shown = home.run("tenant", "show", "contoso", "--json", cwd=1)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "contoso"
    assert "created a new database" not in shown.stderr

    assert home.database.is_file()
    assert stat.S_IMODE(home.folder.stat().st_mode) == 0o700
    assert [p for folder in home.folders for p in folder.iterdir()] == []  # nothing in the working folders


def test_status_without_a_database_says_so_and_creates_none(home: Home) -> None:
    status = home.status()
    assert status["database"] == str(home.database)
    assert (status["exists"], status["schema_version"], status["schema_current"]) == (False, None, False)
    assert (status["tenants"], status["users"], status["queued_mail"]) == (0, 0, 0)
    assert (status["up_running"], status["up_pid"]) == (False, None)

    text = home.run("status", cwd=1)
    assert text.returncode == 0, text.stderr
    assert f"database:    no database yet at {home.database} " in text.stdout
    assert text.stderr == ""
    assert not home.data.exists()


def start_up(home: Home, log: Path) -> subprocess.Popen[bytes]:
    """`dialconf up` as a real process from the first folder, once it says it has started."""
    with log.open("w") as out:
        up = subprocess.Popen(
            [dialconf_command(), "up", "--port", "0"],  # any free port: tests run side by side
            env=home.env,
            cwd=home.folders[0],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "started:" in log.read_text() or up.poll() is not None, "dialconf up to start")
        assert up.poll() is None, log.read_text()
    except BaseException:
        end(up)
        raise
    return up


def end(up: subprocess.Popen[bytes]) -> None:
    """Make sure the process is gone (tests stop it themselves; this is the safety net)."""
    if up.poll() is None:
        up.kill()
        up.wait(timeout=30)


def test_a_second_up_on_the_same_database_is_refused_with_the_pid_of_the_first(
    home: Home, tmp_path: Path
) -> None:
    log = tmp_path / "up.log"
    first = start_up(home, log)
    try:
        output = log.read_text()
        assert f"dialconf up: database: {home.database}" in output
        assert f"copies kept as .eml files in {home.folder / 'caught-mail'}" in output
        assert (home.folder / "dialconf.secret").is_file()

        status = home.status(cwd=1)
        assert (status["up_running"], status["up_pid"]) == (True, first.pid)
        assert (status["database"], status["exists"], status["schema_current"]) == (
            str(home.database),
            True,
            True,
        )
        assert status["smtp"] == "embedded mail catcher (dialconf up)"

        second = home.run("up", cwd=1)
        assert (second.returncode, second.stdout) == (1, "")
        assert second.stderr.splitlines() == [
            f"dialconf: another dialconf up (PID {first.pid}) is already running on {home.database}"
        ]
        assert first.poll() is None  # the refused one did not disturb the first

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        end(first)
    status = home.status(cwd=1)
    assert (status["up_running"], status["up_pid"]) == (False, None)


def test_an_up_killed_without_warning_leaves_no_lock_behind(home: Home, tmp_path: Path) -> None:
    first = start_up(home, tmp_path / "first.log")
    try:
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=60) == -signal.SIGKILL
    finally:
        end(first)
    assert (home.folder / "dialconf.db.up.lock").exists()  # the file stays; the lock went with the process
    status = home.status(cwd=1)
    assert (status["up_running"], status["up_pid"]) == (False, None)

    second = start_up(home, tmp_path / "second.log")
    try:
        assert home.status(cwd=1)["up_pid"] == second.pid
    finally:
        end(second)


def test_status_counts_what_the_database_holds_and_names_the_smtp_target(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("DIALCONF_SMTP_PORT", "587")
    monkeypatch.setenv("DIALCONF_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("DIALCONF_SMTP_PASSWORD", "do-not-show-me")
    status = world.cli.ok("status")
    waiting = statuses(world.url)
    assert status["tenants"] == 3 and status["users"] == 5
    assert status["queued_mail"] == waiting.get("queued", 0) + waiting.get("sending", 0) > 0
    assert status["smtp"] == "smtp.example.com:587 (starttls)"
    assert (status["schema_version"], status["schema_current"]) == (HEAD_REVISION, True)
    assert (status["up_running"], status["up_pid"]) == (False, None)
    if world.url.startswith("sqlite"):
        assert status["database"] == world.url.removeprefix("sqlite:///")
    else:
        assert status["database"].startswith("postgresql") and "@" in status["database"]
    text = world.cli("status")
    assert text.code == 0 and "smtp.example.com:587 (starttls)" in text.out
    assert "do-not-show-me" not in text.out + json.dumps(status)


@pytest.mark.parametrize("account", [ADMIN, HELPDESK])
def test_status_is_refused_to_tenant_admin_accounts(world: World, account: str) -> None:
    result = world.cli("--as", account, "status")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(f"dialconf: {account} is ") and "may not run database upgrades" in result.err
