"""Dial-in under load: in-process `lookup`, complete calls through `dialconf agi`, and the HTTP lookup.

On a SQLite file seeded with --users users (static IDs on one 7-digit bridge), --rounds rounds of:

  bare      the indexed SELECT of the ID row alone (the floor), on a pooled connection checked out per
            query, as `lookup` reads (UnitOfWork.statement);
  held      the same SELECT on one connection held open (no pool checkout: what SQLAlchemy adds);
  lookup    services.dialin.lookup in this process; the three are interleaved sample by sample, with
            the garbage collector frozen and off, and timed both in wall-clock and in CPU time of this
            thread (which a busy machine does not inflate);
  agi       complete call flows (header, ANSWER, language, GET DATA, SET VARIABLE x4, end) through one
            `dialconf agi` process, with --callers concurrent simulated callers (asyncio peers);
  http      POST /api/v1/dialin/lookup through one `dialconf serve` process with a pbx token,
            --callers concurrent clients;

each round printing its figures against the in-process lookup of the same round, then the medians.

    python bench/bench_dialin.py                      # 100,000 users, 3 rounds (~2-3 minutes)
    python bench/bench_dialin.py --users 20000 --calls 1000 --rounds 1   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _support import OPERATOR, Database, StatementCounter, fresh_database, machine, seed_tenant
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from dialconf.domain.roles import Actor
from dialconf.services import dialin
from dialconf.store.models import Bridge, ConferenceIdRow, Tenant, User
from dialconf.store.uow import READ_ONLY, SINGLE_STATEMENT

NUMBER = "+14255550100"
KEY = "bench-secret-key-" + "x" * 32


def seed_users(db: Database, count: int) -> list[str]:
    """`count` enabled users with a live static ID each, inserted in bulk; returns their IDs."""
    now = datetime.now(UTC)
    rng = random.Random(7)
    digits = rng.sample(range(2_000_000, 10_000_000), count)
    with db.engine.begin() as conn:
        tenant_id = conn.scalar(select(Tenant.id))
        bridge_id = conn.scalar(select(Bridge.id))
        for start in range(0, count, 10_000):
            chunk = range(start, min(start + 10_000, count))
            conn.execute(
                insert(User),
                [
                    {
                        "tenant_id": tenant_id, "bridge_id": bridge_id, "upn": f"user{n}@contoso.com",
                        "display_name": f"User {n}", "email": f"user{n}@contoso.com", "provider": "builtin",
                        "enabled": True, "toll_free_allowed": True, "acp_toll_free_numbers": [],
                        "pin_failures_in_window": 0, "pin_total_failures": 0, "pin_locked_for_good": False,
                        "created_at": now, "updated_at": now,
                    }
                    for n in chunk
                ],
            )  # fmt: skip
        ids = dict(conn.execute(select(User.upn, User.id)).all())
        for start in range(0, count, 10_000):
            conn.execute(
                insert(ConferenceIdRow),
                [
                    {
                        "bridge_id": bridge_id, "digits": str(digits[n]), "state": "live", "kind": "static",
                        "chosen": False, "owner_user_id": ids[f"user{n}@contoso.com"], "created_at": now,
                    }
                    for n in range(start, min(start + 10_000, count))
                ],
            )  # fmt: skip
        conn.execute(text("UPDATE bridges SET ids_in_use = :n"), {"n": count})
    return [str(d) for d in digits]


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


Samples = dict[str, tuple[list[float], list[float]]]  # name -> (wall-clock seconds, CPU seconds)


def in_process(db: Database, ids: list[str], n: int, seed: int) -> Samples:
    """bare, held and lookup, interleaved one sample each in turn (the order rotating), GC frozen and off."""
    single: Engine = db.engine.execution_options(**{READ_ONLY: SINGLE_STATEMENT})
    query = text("SELECT id FROM conference_ids WHERE bridge_id = 1 AND digits = :d")
    uow = db.uow()
    held = single.connect()

    def bare(d: str) -> None:
        with single.connect() as conn:
            conn.execute(query, {"d": d}).first()

    def on_held(d: str) -> None:
        held.execute(query, {"d": d}).first()

    def look(d: str) -> None:
        found = dialin.lookup(uow, number=NUMBER, digits=d + "#", caller="+12065550100", actor=OPERATOR)
        assert found.result == "join"

    kinds: list[tuple[str, Callable[[str], None]]] = [("bare", bare), ("held", on_held), ("lookup", look)]
    samples: Samples = {name: ([], []) for name, _ in kinds}
    chosen = random.Random(seed).choices(ids, k=n)
    for d in chosen[:200]:  # warm up: compiled statements, pooled connections, number parsing
        for _, run in kinds:
            run(d)
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for i, d in enumerate(chosen):
            for k in range(len(kinds)):
                name, run = kinds[(i + k) % len(kinds)]
                wall, cpu = time.perf_counter(), time.thread_time()
                run(d)
                samples[name][1].append(time.thread_time() - cpu)
                samples[name][0].append(time.perf_counter() - wall)
    finally:
        gc.enable()
        gc.unfreeze()
        held.close()
    return samples


def statements_per_lookup(db: Database, ids: list[str], n: int = 200) -> float:
    counter = StatementCounter(db.engine)
    uow = db.uow()
    for d in random.Random(9).choices(ids, k=n):
        dialin.lookup(uow, number=NUMBER, digits=d + "#", caller="+12065550100", actor=OPERATOR)
    return counter.count / n


def start(db: Database, *args: str, pattern: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
    env.update({"DIALCONF_DATABASE_URL": db.url, "DIALCONF_SECRET_KEY": KEY, "PYTHONUNBUFFERED": "1"})
    exe = str(Path(sys.executable).parent / "dialconf")
    proc = subprocess.Popen(
        [exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(pattern, line)
        if found:
            threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True).start()
            return proc, found.group(1)
    raise RuntimeError(f"{args[0]} did not start")


async def one_call(port: int, digits: str, caller: str) -> float:
    t = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = f"agi_network: yes\nagi_arg_1: {NUMBER}\nagi_callerid: {caller}\nagi_uniqueid: 1.{caller}\n\n"
    writer.write(header.encode())
    joined = False
    while line := (await reader.readline()).decode().strip():
        if line.startswith("GET DATA"):
            writer.write(f"200 result={digits}\n".encode())
        elif line.startswith("SET VARIABLE"):
            joined |= line == 'SET VARIABLE DIALCONF_RESULT "join"'
            writer.write(b"200 result=1\n")
        elif line.startswith("STREAM FILE"):
            writer.write(b"200 result=0 endpos=0\n")
        else:
            writer.write(b"200 result=0\n")
    writer.close()
    assert joined, "a call did not join"
    return time.perf_counter() - t


async def agi_load(port: int, ids: list[str], calls: int, callers: int) -> tuple[list[float], float]:
    todo = random.Random(3).choices(ids, k=calls)
    latencies: list[float] = []

    async def worker(k: int) -> None:
        while todo:
            latencies.append(await one_call(port, todo.pop(), f"+1206555{k:04d}"))

    t = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(callers)))
    return latencies, time.perf_counter() - t


async def http_load(url: str, token: str, ids: list[str], calls: int, callers: int) -> float:
    todo = random.Random(4).choices(ids, k=calls)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def worker() -> None:
            while todo:
                body = {"number": NUMBER, "digits": todo.pop(), "caller": "+12065550100"}
                answer = await client.post("/api/v1/dialin/lookup", json=body)
                assert answer.json()["result"] == "join", answer.text

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(callers)))
        return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--calls", type=int, default=3000, help="calls, HTTP lookups and in-process samples per round"
    )
    parser.add_argument("--callers", type=int, default=100, help="concurrent callers / HTTP clients")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of all measurements; medians at the end"
    )
    args = parser.parse_args(argv)
    os.environ["DIALCONF_SECRET_KEY"] = KEY
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_database(Path(tmp))
        seed_tenant(db, auto_email=False)
        t = time.perf_counter()
        ids = seed_users(db, args.users)
        print(f"# {machine()}\n# seeded {args.users:,} users in {time.perf_counter() - t:.1f} s", flush=True)
        print(f"# statements per joining lookup: {statements_per_lookup(db, ids):.1f}")

        from dialconf.services import admins, tokens

        admins.create_admin(
            db.uow(),
            email="pbx@contoso.com",
            tenant="contoso",
            role="pbx",
            password="bench-password",
            actor=OPERATOR,
        )
        token = tokens.create_token(db.uow(), actor=dialin_actor(db)).token
        agi, port = start(db, "agi", "--listen", "127.0.0.1:0", pattern=r"agi://127\.0\.0\.1:(\d+)")
        web, url = start(db, "serve", "--port", "0", pattern=r"on (http://127\.0\.0\.1:\d+)")
        rounds: list[dict[str, float]] = []
        try:
            asyncio.run(agi_load(int(port), ids, min(300, args.calls), args.callers))  # warm up
            asyncio.run(http_load(url, token, ids, min(300, args.calls), args.callers))
            for r in range(1, args.rounds + 1):
                rounds.append(one_round(r, db, ids, args, int(port), url, token))
        finally:
            for proc in (agi, web):
                proc.terminate()
                proc.wait(30)
        summary(rounds, args)
    return 0


def one_round(
    r: int, db: Database, ids: list[str], args: argparse.Namespace, port: int, url: str, token: str
) -> dict[str, float]:
    print(f"\nround {r} ({load()})", flush=True)
    samples = in_process(db, ids, args.calls, seed=r)
    got: dict[str, float] = {}
    for name in ("bare", "held", "lookup"):
        wall, cpu = samples[name]
        got[f"{name} p50"], got[f"{name} p99"] = pct(wall, 0.5), pct(wall, 0.99)
        got[f"{name} cpu p50"], got[f"{name} cpu p99"] = pct(cpu, 0.5), pct(cpu, 0.99)
        print(
            f"  {name:<7} wall p50 {got[f'{name} p50']:7.3f} ms  p99 {got[f'{name} p99']:7.3f} ms   "
            f"CPU p50 {got[f'{name} cpu p50']:7.3f} ms  p99 {got[f'{name} cpu p99']:7.3f} ms"
        )
    got["lookups/s"] = len(samples["lookup"][0]) / sum(samples["lookup"][0])
    print(
        f"  lookup / bare: wall p50 {got['lookup p50'] / got['bare p50']:.2f}x  p99 "
        f"{got['lookup p99'] / got['bare p99']:.2f}x   CPU p50 {got['lookup cpu p50'] / got['bare cpu p50']:.2f}x  "
        f"p99 {got['lookup cpu p99'] / got['bare cpu p99']:.2f}x   ({got['lookups/s']:,.0f} lookups/s in-process)",
        flush=True,
    )
    latencies, seconds = asyncio.run(agi_load(port, ids, args.calls, args.callers))
    got["agi/s"] = len(latencies) / seconds
    got["agi p50"], got["agi p99"] = pct(latencies, 0.5), pct(latencies, 0.99)
    print(
        f"  agi     {got['agi/s']:7,.0f} call flows/s with {args.callers} callers  p50 {got['agi p50']:.1f} ms  "
        f"p99 {got['agi p99']:.1f} ms  ratio to in-process lookups/s {got['agi/s'] / got['lookups/s']:.3f}  ({load()})",
        flush=True,
    )
    seconds = asyncio.run(http_load(url, token, ids, args.calls, args.callers))
    got["http/s"] = args.calls / seconds
    print(
        f"  http    {got['http/s']:7,.0f} lookups/s with {args.callers} clients  "
        f"ratio to in-process lookups/s {got['http/s'] / got['lookups/s']:.3f}  ({load()})",
        flush=True,
    )
    return got


def summary(rounds: list[dict[str, float]], args: argparse.Namespace) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def med_ratio(top: str, bottom: str) -> float:
        return statistics.median(r[top] / r[bottom] for r in rounds)

    print(f"\nmedians of {len(rounds)} round(s), {args.users:,} users ({load()}):")
    print(
        f"  bare SELECT (pooled)   p50 {med('bare p50'):.3f} ms  p99 {med('bare p99'):.3f} ms  (CPU p99 {med('bare cpu p99'):.3f})"
    )
    print(
        f"  bare SELECT (held)     p50 {med('held p50'):.3f} ms  p99 {med('held p99'):.3f} ms  (CPU p99 {med('held cpu p99'):.3f})"
    )
    print(
        f"  lookup in-process      p50 {med('lookup p50'):.3f} ms  p99 {med('lookup p99'):.3f} ms  (CPU p99 {med('lookup cpu p99'):.3f})  {med('lookups/s'):,.0f}/s"
    )
    print(
        f"  lookup p99 / bare p99  wall {med_ratio('lookup p99', 'bare p99'):.2f}x  CPU {med_ratio('lookup cpu p99', 'bare cpu p99'):.2f}x"
        f"   (p50: wall {med_ratio('lookup p50', 'bare p50'):.2f}x; against the held connection: p99 wall "
        f"{med_ratio('lookup p99', 'held p99'):.2f}x, CPU {med_ratio('lookup cpu p99', 'held cpu p99'):.2f}x)   aim 3x"
    )
    print(
        f"  agi call flows         {med('agi/s'):,.0f}/s  p50 {med('agi p50'):.1f} ms  p99 {med('agi p99'):.1f} ms  "
        f"ratio to in-process {med_ratio('agi/s', 'lookups/s'):.3f}   aim 500/s"
    )
    print(
        f"  http lookups           {med('http/s'):,.0f}/s  ratio to in-process {med_ratio('http/s', 'lookups/s'):.3f}"
    )


def dialin_actor(db: Database) -> Actor:
    from dialconf.services.admins import actor_for

    return actor_for(db.uow(), "pbx@contoso.com")


if __name__ == "__main__":
    sys.exit(main())
