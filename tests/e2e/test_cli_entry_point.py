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
