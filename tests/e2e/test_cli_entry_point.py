"""The installed `dialconf` console script, run as a real process: the entry point and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def installed_script() -> Path:
    """The console script pip put next to this interpreter (not a `python -m` stand-in)."""
    bindir = Path(sys.executable).parent
    script = bindir / ("dialconf.exe" if os.name == "nt" else "dialconf")
    if not script.is_file():
        pytest.fail(f"no dialconf console script in {bindir}; install the project: pip install -e .")
    return script


def test_installed_script_creates_the_embedded_database_and_exits_0_1_or_2(tmp_path: Path) -> None:
    database = tmp_path / "dialconf.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
    env["DIALCONF_DATABASE_URL"] = f"sqlite:///{database}"
    script = installed_script()

    def dialconf(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    created = dialconf("tenant", "create", "contoso", "--domain", "contoso.com", "--json")
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)
    assert tenant["name"] == "contoso" and tenant["conference_id_mode"] == "dynamic"
    assert database.is_file()  # the embedded default created and migrated its schema on first use

    refused = dialconf("tenant", "show", "nowhere")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["dialconf: tenant 'nowhere' does not exist"]

    usage = dialconf("user", "show")
    assert usage.returncode == 2
    assert "Usage" in usage.stderr and "Traceback" not in usage.stderr


@pytest.mark.parametrize("output", [[], ["--json"]], ids=["table", "json"])
def test_a_reader_that_stops_reading_early_is_not_a_failure(tmp_path: Path, output: list[str]) -> None:
    # `dialconf tenant list | head -1`: the pipe is closed before dialconf writes; exit 0, no message
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
    env["DIALCONF_DATABASE_URL"] = f"sqlite:///{tmp_path / 'dialconf.db'}"
    script = str(installed_script())
    for name in ("contoso", "fabrikam"):
        subprocess.run(
            [script, "tenant", "create", name, "--domain", f"{name}.com"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        listed = subprocess.run(
            [script, "tenant", "list", *output],
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (listed.returncode, listed.stderr) == (0, "")
