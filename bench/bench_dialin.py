"""Dial-in under load: in-process `lookup`, complete calls through `dialconf agi`, and the HTTP lookup.

On a SQLite file seeded with --users users (static IDs on one 7-digit bridge), in one run:

  bare      the indexed SELECT of the ID row alone (the floor);
  lookup    services.dialin.lookup in this process, one call after another: p50/p99 and statements;
  agi       complete call flows (header, ANSWER, language, GET DATA, SET VARIABLE x4, end) through one
            `dialconf agi` process, with --callers concurrent simulated callers (asyncio peers);
  http      POST /api/v1/dialin/lookup through one `dialconf serve` process with a pbx token,
            --callers concurrent clients;

and prints each against the in-process figures of the same run.

    python bench/bench_dialin.py                      # 100,000 users, 100 callers
    python bench/bench_dialin.py --users 20000 --calls 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _support import OPERATOR, Database, StatementCounter, fresh_database, machine, seed_tenant
from sqlalchemy import insert, select, text

from dialconf.domain.roles import Actor
from dialconf.services import dialin
from dialconf.store.models import Bridge, ConferenceIdRow, Tenant, User

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
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bare(db: Database, ids: list[str], n: int) -> list[float]:
    times = []
    query = text("SELECT id FROM conference_ids WHERE bridge_id = 1 AND digits = :d")
    with db.engine.connect() as conn:
        for d in random.Random(1).choices(ids, k=n):
            t = time.perf_counter()
            conn.execute(query, {"d": d}).first()
            times.append(time.perf_counter() - t)
    return times


def in_process(db: Database, ids: list[str], n: int) -> tuple[list[float], float]:
    counter = StatementCounter(db.engine)
    uow = db.uow()
    times = []
    for d in random.Random(2).choices(ids, k=n):
        t = time.perf_counter()
        found = dialin.lookup(uow, number=NUMBER, digits=d + "#", caller="+12065550100", actor=OPERATOR)
        times.append(time.perf_counter() - t)
        assert found.result == "join"
    return times, counter.count / n


def start(db: Database, *args: str, pattern: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALCONF_")}
    env.update({"DIALCONF_DATABASE_URL": db.url, "DIALCONF_SECRET_KEY": KEY, "PYTHONUNBUFFERED": "1"})
    exe = str(Path(sys.executable).parent / "dialconf")
    proc = subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    parser.add_argument("--calls", type=int, default=3000, help="calls (and HTTP lookups) per measurement")
    parser.add_argument("--callers", type=int, default=100, help="concurrent callers / HTTP clients")
    args = parser.parse_args(argv)
    os.environ["DIALCONF_SECRET_KEY"] = KEY
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_database(Path(tmp))
        seed_tenant(db, auto_email=False)
        t = time.perf_counter()
        ids = seed_users(db, args.users)
        print(f"# {machine()}\n# seeded {args.users:,} users in {time.perf_counter() - t:.1f} s")

        floor = bare(db, ids, args.calls)
        inproc, statements = in_process(db, ids, args.calls)
        inproc_rate = len(inproc) / sum(inproc)
        print(f"bare SELECT        p50 {pct(floor, .5):.3f} ms  p99 {pct(floor, .99):.3f} ms")
        print(
            f"lookup in-process  p50 {pct(inproc, .5):.3f} ms  p99 {pct(inproc, .99):.3f} ms  "
            f"{statements:.1f} statements  {inproc_rate:,.0f}/s  "
            f"p99 ratio to bare {pct(inproc, .99) / pct(floor, .99):.1f}x"
        )

        agi, port = start(db, "agi", "--listen", "127.0.0.1:0", pattern=r"agi://127\.0\.0\.1:(\d+)")
        try:
            asyncio.run(agi_load(int(port), ids, min(200, args.calls), args.callers))  # warm up
            latencies, seconds = asyncio.run(agi_load(int(port), ids, args.calls, args.callers))
        finally:
            agi.terminate()
            agi.wait(30)
        rate = len(latencies) / seconds
        print(
            f"agi call flows     {rate:,.0f}/s with {args.callers} callers  p50 {pct(latencies, .5):.1f} ms  "
            f"p99 {pct(latencies, .99):.1f} ms  ratio to in-process lookups/s {rate / inproc_rate:.2f}"
        )

        from dialconf.services import admins, tokens

        admins.create_admin(
            db.uow(), email="pbx@contoso.com", tenant="contoso", role="pbx", password="bench-password", actor=OPERATOR
        )
        token = tokens.create_token(db.uow(), actor=dialin_actor(db)).token
        web, url = start(db, "serve", "--port", "0", pattern=r"on (http://127\.0\.0\.1:\d+)")
        try:
            asyncio.run(http_load(url, token, ids, min(200, args.calls), args.callers))  # warm up
            seconds = asyncio.run(http_load(url, token, ids, args.calls, args.callers))
        finally:
            web.terminate()
            web.wait(30)
        rate = args.calls / seconds
        print(f"http lookups       {rate:,.0f}/s with {args.callers} clients  ratio to in-process {rate / inproc_rate:.2f}")
        print(f"# mean in-process lookup {statistics.mean(inproc) * 1000:.3f} ms")
    return 0


def dialin_actor(db: Database) -> Actor:
    from dialconf.services.admins import actor_for

    return actor_for(db.uow(), "pbx@contoso.com")


if __name__ == "__main__":
    sys.exit(main())
