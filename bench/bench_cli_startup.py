"""CLI start-up: `dialconf --help` and two database commands, against `python -c pass`.

Each measurement is one fresh interpreter, timed from start to exit, as an admin's script pays it:

  python -c pass                bare interpreter start: the baseline
  dialconf --help               parse nothing, print the top-level help (aim: within 8x the baseline)
  dialconf tenant list --json   read the tenants of a seeded SQLite database (aim: within 20x)
  dialconf user show UPN --json read one user of the same database

The database is a temporary SQLite file (DIALCONF_DATABASE_URL), seeded through the CLI itself: a
tenant, a bridge, a number and a user. The four commands take turns (interleaved) for --runs rounds,
so a busy machine slows them alike; the figures are the median, the spread (lowest-highest) and the
ratio of the medians to the baseline's.

The CLI runs as the `dialconf` script does (import dialconf.cli.app, call main). --src DIR runs the
dialconf package found in DIR instead (for instance an older checkout's src/), with the same Python.

    python bench/bench_cli_startup.py                # 20 rounds
    python bench/bench_cli_startup.py --runs 5
    python bench/bench_cli_startup.py --src /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import machine, median

LAUNCH = "from dialconf.cli.app import main; main()"
UPN = "ada@contoso.com"


def dialconf(*args: str) -> list[str]:
    return [sys.executable, "-c", LAUNCH, *args]


CASES: list[tuple[str, list[str], float | None]] = [
    ("python -c pass", [sys.executable, "-c", "pass"], None),
    ("dialconf --help", dialconf("--help"), 8.0),
    ("dialconf tenant list --json", dialconf("tenant", "list", "--json"), 20.0),
    (f"dialconf user show {UPN} --json", dialconf("user", "show", UPN, "--json"), 20.0),
]


def seed(env: dict[str, str]) -> None:
    for args in (
        ["tenant", "create", "contoso", "--domain", "contoso.com"],
        ["bridge", "create", "contoso", "main"],
        ["number", "add", "contoso", "+14255550100", "--city", "Seattle"],
        ["user", "enable", UPN, "--tenant", "contoso", "--email", UPN, "--name", "Ada", "--no-email"],
    ):
        subprocess.run(dialconf(*args, "--json"), env=env, check=True, capture_output=True)


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds of the four commands (default 20)")
    parser.add_argument("--src", type=Path, default=None, help="run the dialconf package in this directory")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temporary SQLite file")
    options = parser.parse_args()

    print(machine())
    with tempfile.TemporaryDirectory(dir=options.dir) as folder:
        env = dict(os.environ)
        env["DIALCONF_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'bench.db'}"
        env.pop("DIALCONF_ACTOR", None)
        if options.src is not None:
            env["PYTHONPATH"] = str(options.src.resolve())
        where = subprocess.run(
            [sys.executable, "-c", "import dialconf; print(dialconf.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"dialconf from {Path(where.stdout.strip()).parent}")
        seed(env)
        times: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
        for _ in range(options.runs):
            for name, command, _ in CASES:
                times[name].append(timed(command, env))

    base = median(times[CASES[0][0]])
    print(f"{options.runs} runs each, interleaved; times in ms")
    print(f"{'command':<40} {'median':>8} {'spread':>15} {'ratio':>7} {'aim':>6}")
    for name, _, aim in CASES:
        values = times[name]
        mid = median(values)
        spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"
        aim_text = f"{aim:.0f}x" if aim else ""
        print(f"{name:<40} {mid * 1000:>8.1f} {spread:>15} {mid / base:>6.1f}x {aim_text:>6}")


if __name__ == "__main__":
    main()
