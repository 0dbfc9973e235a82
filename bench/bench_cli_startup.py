"""CLI start-up: `dialconf --help` and two database commands, against `python -c pass`.

Each measurement is one fresh interpreter, timed from start to exit, as an admin's script pays it:

  python -c pass                bare interpreter start: the baseline
  dialconf --help               parse nothing, print the top-level help (aim: within 8x the baseline)
  dialconf tenant list --json   read the tenants of a seeded SQLite database (aim: within 20x)
  dialconf user show UPN --json read one user of the same database
  import sqlalchemy.orm         not dialconf: what any command using the ORM pays before its work

The database is a temporary SQLite file (DIALCONF_DATABASE_URL), seeded through the CLI itself: a
tenant, a bridge, a number and a user. The commands take turns (interleaved) for --runs rounds,
so a busy machine slows them alike; the figures are the median, the spread (lowest-highest) and the
ratio of the medians to the baseline's.

The CLI runs as the `dialconf` script does (import dialconf.cli.app, call main). --before DIR also
runs the three dialconf commands of the package found in DIR (for instance an older checkout's
src/, with the same Python and the same database) in the same rounds, for a side-by-side figure.

    python bench/bench_cli_startup.py                # 20 rounds
    python bench/bench_cli_startup.py --runs 5
    git archive OLD src | tar -x -C /tmp/old && python bench/bench_cli_startup.py --before /tmp/old/src
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


CASES: list[tuple[str, list[str], float | None]] = [  # name, command, aim (ratio to python -c pass)
    ("python -c pass", [sys.executable, "-c", "pass"], None),
    ("dialconf --help", dialconf("--help"), 8.0),
    ("dialconf tenant list --json", dialconf("tenant", "list", "--json"), 20.0),
    (f"dialconf user show {UPN} --json", dialconf("user", "show", UPN, "--json"), 20.0),
    # not dialconf: the floor of any command that uses the ORM, for reading the two above
    ("python -c 'import sqlalchemy.orm'", [sys.executable, "-c", "import sqlalchemy.orm"], None),
]


def seed(env: dict[str, str]) -> None:
    for args in (
        ["tenant", "create", "contoso", "--domain", "contoso.com"],
        ["bridge", "create", "contoso", "main"],
        ["number", "add", "contoso", "+14255550100", "--city", "Seattle"],
        ["user", "enable", UPN, "--tenant", "contoso", "--email", UPN, "--name", "Ada", "--no-email"],
    ):
        subprocess.run(dialconf(*args, "--json"), env=env, check=True, capture_output=True)


def package(env: dict[str, str]) -> Path:
    where = subprocess.run(
        [sys.executable, "-c", "import dialconf; print(dialconf.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(where.stdout.strip()).parent


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds of the commands (default 20)")
    parser.add_argument(
        "--before", type=Path, default=None, help="also run the dialconf package in this directory"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temporary SQLite file")
    options = parser.parse_args()

    print(machine())
    with tempfile.TemporaryDirectory(dir=options.dir) as folder:
        env = dict(os.environ)
        env["DIALCONF_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'bench.db'}"
        env.pop("DIALCONF_ACTOR", None)
        cases = [(name, command, aim, env) for name, command, aim in CASES]
        if options.before is not None:
            old = {**env, "PYTHONPATH": str(options.before.resolve())}
            print(f"before: dialconf from {package(old)}")
            cases += [(f"before: {name}", command, aim, old) for name, command, aim in CASES[1:4]]
        print(f"dialconf from {package(env)}")
        seed(env)
        times: dict[str, list[float]] = {name: [] for name, *_ in cases}
        for _ in range(options.runs):
            for name, command, _, case_env in cases:
                times[name].append(timed(command, case_env))

    base = median(times[cases[0][0]])
    print(f"{options.runs} runs each, interleaved; times in ms")
    print(f"{'command':<48} {'median':>8} {'spread':>15} {'ratio':>7} {'aim':>6}")
    for name, _, aim, _ in cases:
        values = times[name]
        mid = median(values)
        spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"
        aim_text = f"{aim:.0f}x" if aim else ""
        print(f"{name:<48} {mid * 1000:>8.1f} {spread:>15} {mid / base:>6.1f}x {aim_text:>6}")


if __name__ == "__main__":
    main()
