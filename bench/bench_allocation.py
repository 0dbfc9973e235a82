"""Conference ID allocation on a nearly full bridge: dialconf's allocator against a naive baseline.

DESIGN §2 rule 8: allocation stays fast when the bridge's ID space is nearly full (expected O(1)
database round trips at 99% occupancy). This fills one bridge on a SQLite file to 0%, 50%, 90% and
99% of its usable ID space (in one pass, levels in increasing order) and, at each level, times
allocations one transaction each, alternating between

  dialconf  services.conference_ids.allocate: lock the bridge row, draw a batch of candidates sized
            by the occupancy, check them all in one IN query, insert one;
  naive     draw one candidate, SELECT it, retry until one is free, then INSERT it.

Round trips are the statements SQLAlchemy sends to the driver (a `before_cursor_execute` listener)
plus the COMMIT, counted over the whole transaction, the same way for both.

    python bench/bench_allocation.py                    # 7 digits, 200 allocations per level and side
    python bench/bench_allocation.py --length 6 --allocations 50 --levels 0,50,99
    python bench/bench_allocation.py --latency-ms 0.5   # also pay 0.5 ms per round trip, like a network
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from _support import (
    Database,
    StatementCounter,
    fresh_database,
    machine,
    median,
    seed_tenant,
    sqlite_timestamp,
)
from sqlalchemy import select, update

from dialconf.domain import ids
from dialconf.services import conference_ids
from dialconf.store.models import Bridge, ConferenceIdRow
from dialconf.store.uow import UnitOfWork

Allocator = Callable[[UnitOfWork, Bridge], str]
FILL_BATCH = 200_000


# --- the two allocators -----------------------------------------------------------------------


def dialconf_allocate(uow: UnitOfWork, bridge: Bridge) -> str:
    return conference_ids.allocate(uow, bridge, owner_user_id=None).digits


def naive_allocate(uow: UnitOfWork, bridge: Bridge) -> str:
    """Draw, check, retry: one SELECT per candidate until a free one turns up, then INSERT it."""
    session = uow.session
    while True:
        digits = ids.draw(uow.rng, bridge.id_length)
        taken = session.scalar(
            select(ConferenceIdRow.id).where(
                ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits
            )
        )
        if taken is None:
            break
    session.add(
        ConferenceIdRow(
            bridge_id=bridge.id,
            digits=digits,
            state="live",
            kind="static",
            chosen=False,
            created_at=uow.now(),
        )
    )
    session.flush()
    return digits


# --- filling the bridge -----------------------------------------------------------------------

_ASCENDING, _DESCENDING = "0123456789", "9876543210"
# a digit 4 times in a row, or a run of 5 ascending or descending digits, in one C-level search
_WEAK = re.compile(
    "|".join([r"(\d)\1{3}"] + [seq[i : i + 5] for seq in (_ASCENDING, _DESCENDING) for i in range(6)])
)


def partition_space(length: int) -> tuple[list[str], list[str]]:
    """Every ID of `length` digits (first digit not 0), split into (acceptable, weak) by the rules of ids.weakness.

    The same three rules written for speed (9 million IDs in seconds, not minutes);
    check_partition() compares the result with ids.is_acceptable_generated.
    """
    periods = range(1, length // 2 + 1)
    acceptable, weak = [], []
    for n in range(10 ** (length - 1), 10**length):
        s = str(n)
        if _WEAK.search(s) or any(s[:-p] == s[p:] for p in periods):
            weak.append(s)
        else:
            acceptable.append(s)
    return acceptable, weak


def check_partition(acceptable: list[str], weak: list[str], rng: random.Random) -> None:
    """The fast split must agree with ids.is_acceptable_generated: on every weak ID, and on a sample of the rest."""
    assert not any(ids.is_acceptable_generated(s) for s in weak), "the fast filter rejects a good ID"
    sample = rng.sample(acceptable, min(len(acceptable), 50_000))
    assert all(ids.is_acceptable_generated(s) for s in sample), "the fast filter keeps a weak ID"


def fill(db: Database, bridge_id: int, digits: list[str]) -> None:
    """Insert live IDs with raw executemany (sorted, for index locality) and bump ids_in_use."""
    db.engine.dispose()  # nobody else may hold the file while the journal mode changes
    conn = sqlite3.connect(db.path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")  # a benchmark fixture: no crash safety needed here
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        created = sqlite_timestamp(datetime.now(UTC))
        conn.execute("BEGIN")
        for start in range(0, len(digits), FILL_BATCH):
            conn.executemany(
                "INSERT INTO conference_ids (bridge_id, digits, state, kind, chosen, created_at)"
                " VALUES (?, ?, 'live', 'static', 0, ?)",
                ((bridge_id, d, created) for d in sorted(digits[start : start + FILL_BATCH])),
            )
        conn.execute("UPDATE bridges SET ids_in_use = ids_in_use + ? WHERE id = ?", (len(digits), bridge_id))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Side:
    seconds: list[float] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)


@dataclass
class Level:
    percent: float
    rows: int
    occupancy: float
    latency_ms: float
    dialconf: Side
    naive: Side


def one_allocation(
    db: Database, counter: StatementCounter, bridge_id: int, allocator: Allocator
) -> tuple[str, float, int]:
    """One allocation in its own transaction: (digits, seconds, round trips)."""
    uow = db.uow()
    counter.reset()
    start = time.perf_counter()
    with uow:
        bridge = uow.session.get(Bridge, bridge_id)
        assert bridge is not None
        digits = allocator(uow, bridge)
        uow.commit()
    return digits, time.perf_counter() - start, counter.count


def measure_level(
    db: Database, counter: StatementCounter, bridge_id: int, args: argparse.Namespace, handed_out: set[str]
) -> tuple[Side, Side]:
    """Allocate with both allocators, alternating; adds every ID handed out to `handed_out`."""
    sides = {"dialconf": Side(), "naive": Side()}
    allocators: dict[str, Allocator] = {"dialconf": dialconf_allocate, "naive": naive_allocate}
    naive_count = 0
    for i in range(args.warmup + args.allocations):
        # alternate the two so that noise from other work on the machine falls on both alike
        order = ("dialconf", "naive") if i % 2 == 0 else ("naive", "dialconf")
        for name in order:
            digits, seconds, trips = one_allocation(db, counter, bridge_id, allocators[name])
            handed_out.add(digits)
            naive_count += name == "naive"
            if i >= args.warmup:
                sides[name].seconds.append(seconds)
                sides[name].round_trips.append(trips)
    # the naive allocator does not keep the bridge's count in step; do it here, unmeasured
    uow = db.uow()
    with uow:
        uow.session.execute(
            update(Bridge).where(Bridge.id == bridge_id).values(ids_in_use=Bridge.ids_in_use + naive_count)
        )
        uow.commit()
    return sides["dialconf"], sides["naive"]


def ids_in_use(db: Database, bridge_id: int) -> int:
    uow = db.uow()
    with uow:
        return int(uow.session.scalar(select(Bridge.ids_in_use).where(Bridge.id == bridge_id)) or 0)


def report(
    levels: list[Level], args: argparse.Namespace, fill_seconds: float, space: int, exact: int
) -> None:
    print()
    print(
        f"Allocation on a {args.length}-digit bridge, SQLite, {args.allocations} allocations per level and side"
    )
    print(
        f"usable space ids.usable_space({args.length}) = {space:,}; acceptable IDs counted exactly = {exact:,}"
    )
    print(f"fill time (raw executemany, all levels): {fill_seconds:.1f} s")
    print(machine())
    print()
    header = (
        f"{'occupancy':>9} {'IDs in use':>11} {'latency':>7} | {'dialconf ms':>11} {'trips':>5} {'max':>4} |"
        f" {'naive ms':>9} {'trips':>5} {'max':>4} | {'time ratio':>10} {'trips ratio':>11}"
    )
    print(header)
    print("-" * len(header))
    for lv in levels:
        d_ms, n_ms = median(lv.dialconf.seconds) * 1000, median(lv.naive.seconds) * 1000
        d_rt = median([float(t) for t in lv.dialconf.round_trips])
        n_rt = median([float(t) for t in lv.naive.round_trips])
        print(
            f"{lv.occupancy:>9.2%} {lv.rows:>11,} {lv.latency_ms:>5g}ms |"
            f" {d_ms:>11.2f} {d_rt:>5.0f} {max(lv.dialconf.round_trips):>4} |"
            f" {n_ms:>9.2f} {n_rt:>5.0f} {max(lv.naive.round_trips):>4} |"
            f" {d_ms / n_ms:>10.2f} {d_rt / n_rt:>11.2f}"
        )
    print()
    print("ms and trips: medians per allocation, one transaction each (BEGIN, load the bridge, allocate,")
    print(
        "COMMIT); max: the most trips one allocation took; latency: simulated wait per round trip (0: plain"
    )
    print("SQLite in this process); ratios: dialconf / naive, below 1 means dialconf does better.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--length", type=int, default=7, help="conference ID length of the bridge (default 7)"
    )
    parser.add_argument(
        "--allocations", type=int, default=200, help="measured allocations per level and side"
    )
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured allocations per level and side")
    parser.add_argument(
        "--levels", default="0,50,90,99", help="occupancy levels in percent (default 0,50,90,99)"
    )
    parser.add_argument(
        "--latency-ms",
        default="0",
        help="simulated latency per round trip, in ms; a list (0,0.5) measures each level at each",
    )
    parser.add_argument("--seed", type=int, default=2024, help="seed of the fill order")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temporary SQLite file")
    args = parser.parse_args(argv)
    percents = sorted(float(p) for p in args.levels.split(","))
    latencies = [float(ms) for ms in args.latency_ms.split(",")]

    started = time.perf_counter()
    rng = random.Random(args.seed)
    acceptable, weak = partition_space(args.length)
    check_partition(acceptable, weak, rng)
    rng.shuffle(acceptable)  # the fill order: each level adds the next slice of it
    log(
        f"{len(acceptable):,} acceptable IDs enumerated, checked and shuffled in {time.perf_counter() - started:.1f} s"
    )
    space = ids.usable_space(args.length)

    levels: list[Level] = []
    fill_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="dialconf-bench-", dir=args.dir) as tmp:
        db = fresh_database(Path(tmp))
        seed_tenant(db, id_length=args.length)
        uow = db.uow()
        with uow:
            bridge_id = uow.session.scalars(select(Bridge.id).where(Bridge.name == "main")).one()
        counter = StatementCounter(db.engine)
        handed_out: set[str] = set()
        fill_order = iter(acceptable)
        for percent in percents:
            missing = int(space * percent / 100) - ids_in_use(db, bridge_id)
            if missing > 0:
                # skip IDs the allocators already handed out at the lower levels
                batch = list(itertools.islice((d for d in fill_order if d not in handed_out), missing))
                t0 = time.perf_counter()
                fill(db, bridge_id, batch)
                fill_seconds += time.perf_counter() - t0
                log(f"filled to {percent:g}% (+{len(batch):,} IDs) in {time.perf_counter() - t0:.1f} s")
            for latency in latencies:
                counter.latency = latency / 1000
                rows = ids_in_use(db, bridge_id)
                dialconf, naive = measure_level(db, counter, bridge_id, args, handed_out)
                levels.append(Level(percent, rows, rows / space, latency, dialconf, naive))
                log(
                    f"measured at {percent:g}%, latency {latency:g} ms: dialconf "
                    f"{median(dialconf.seconds) * 1000:.2f} ms, naive {median(naive.seconds) * 1000:.2f} ms"
                )
            counter.latency = 0.0
        db.engine.dispose()
    report(levels, args, fill_seconds, space, len(acceptable))
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
