"""Outbox delivery: N queued mails delivered by one worker to a local aiosmtpd, against a raw smtplib loop.

Both sides talk to the same aiosmtpd server, which runs in its own process (so it does not share a
GIL with the sender) and accepts and discards every message. In each round:

  raw smtplib   the same N messages, rendered beforehand (the exact bytes the worker sends), sent by
                `smtplib.SMTP.sendmail` in a plain loop over one connection: the ceiling
  worker        `DeliveryWorker` (what `dialconf worker` runs) on the queued outbox: claims batches
                (SKIP LOCKED on PostgreSQL), renders each message, sends it over its reused
                connection, records sent/deferred/failed, until all N rows are `sent`

The outbox is re-queued between rounds, and the two sides take turns going first. The rates are
medians over the rounds; the ratio (worker rate / raw rate) is the median of the per-round ratios
(aim: at least 0.5).

    python bench/bench_mail.py                     # 10,000 mails, SQLite, 3 rounds
    python bench/bench_mail.py --postgres          # the same on a throwaway PostgreSQL server
    python bench/bench_mail.py --mails 2000 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.synchronize
import smtplib
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _support import OPERATOR, Database, fresh_database, machine, median, seed_tenant
from sqlalchemy import func, insert, select, update

from dialconf.config import SmtpSettings
from dialconf.mail.compose import MailKind
from dialconf.mail.smtp import SmtpTransport
from dialconf.mail.worker import DeliveryWorker
from dialconf.services import users
from dialconf.services.common import get_tenant, get_user
from dialconf.services.delivery import DeliveryPolicy, message_bytes
from dialconf.services.outbox import mail_info, mail_values
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.migrate import upgrade
from dialconf.store.models import OutboxMail
from dialconf.store.uow import UnitOfWork

TARGET_RATIO = 0.5


# --- the SMTP server, in its own process ------------------------------------------------------


class _Discard:
    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def _serve(port: Any, counter: Any, ready: multiprocessing.synchronize.Event, done: Any) -> None:
    import socket

    from aiosmtpd.controller import Controller

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port.value = sock.getsockname()[1]

    class Bound(Controller):
        def _create_server(self) -> Any:
            sock.listen(128)
            return self.loop.create_server(self._factory_invoker, sock=sock)

    controller = Bound(_Discard(counter), hostname="127.0.0.1", port=port.value)
    controller.start()
    ready.set()
    done.wait()
    controller.stop()
    asyncio.set_event_loop(None)


class SmtpSink:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = ctx.Value("i", 0)
        self.counter = ctx.Value("q", 0)
        self._ready = ctx.Event()
        self._done = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(self.port, self.counter, self._ready, self._done))

    def __enter__(self) -> SmtpSink:
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("the aiosmtpd server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._proc.join(30)

    @property
    def received(self) -> int:
        return int(self.counter.value)


# --- the outbox ---------------------------------------------------------------------------------


def queue_mails(uow: UnitOfWork, count: int) -> None:
    """N conference-info mails for one user, each to its own address with its own Message-ID."""
    users.enable_user(
        uow, tenant="contoso", upn="ada@contoso.com", email="ada@contoso.com", name="Ada Lovelace",
        actor=OPERATOR, send_email=False,
    )  # fmt: skip
    with uow:
        tenant = get_tenant(uow, "contoso", OPERATOR)
        user = get_user(uow, "ada@contoso.com", OPERATOR)
        info = mail_info(uow, tenant, user, conference_id=None)
        rows = [
            mail_values(uow, tenant, user, MailKind.CONFERENCE_INFO, info, to=f"reader{i}@contoso.com")
            for i in range(count)
        ]
        for start in range(0, count, 1000):
            uow.session.execute(insert(OutboxMail), rows[start : start + 1000])
        uow.commit()


def requeue(uow: UnitOfWork) -> None:
    with uow:
        uow.session.execute(
            update(OutboxMail).values(
                status="queued", attempts=0, sent_at=None, locked_until=None, next_attempt_at=uow.now()
            )
        )
        uow.commit()


def count_sent(uow: UnitOfWork) -> int:
    with uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "sent")
            )
            or 0
        )


def prerender(uow: UnitOfWork) -> list[tuple[str, str, bytes]]:
    with uow:
        rows = uow.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        return [(r.from_addr, r.to_addr, message_bytes(r)) for r in rows]


# --- the two contenders -------------------------------------------------------------------------


def raw_loop(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    start = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    for sender, to, data in messages:
        conn.sendmail(sender, [to], data)
    conn.quit()
    return time.perf_counter() - start


def worker_run(uow: UnitOfWork, port: int, count: int, batch_size: int) -> float:
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=30))
    stop = threading.Event()
    worker = DeliveryWorker(
        uow,
        transport,
        policy=DeliveryPolicy(batch_size=batch_size),
        poll_interval=0.01,
        report=lambda _line: stop.set() if worker.totals.sent >= count else None,
    )
    start = time.perf_counter()
    worker.run(stop)
    elapsed = time.perf_counter() - start
    if worker.totals.sent != count or count_sent(uow) != count:
        raise RuntimeError(f"worker sent {worker.totals.sent} of {count}")
    return elapsed


@dataclass
class Round:
    raw: float
    worker: float


def run(uow: UnitOfWork, *, count: int, rounds: int, batch_size: int) -> list[Round]:
    messages = prerender(uow)
    results = []
    with SmtpSink() as sink:
        for i in range(rounds):
            before = sink.received
            # alternate the order, so that a machine getting busier or quieter favours neither side
            if i % 2 == 0:
                raw = raw_loop(sink.port.value, messages)
                worker = worker_run(uow, sink.port.value, count, batch_size)
            else:
                worker = worker_run(uow, sink.port.value, count, batch_size)
                raw = raw_loop(sink.port.value, messages)
            requeue(uow)
            if sink.received - before != 2 * count:
                raise RuntimeError(f"the server received {sink.received - before}, expected {2 * count}")
            results.append(Round(raw=raw, worker=worker))
            print(
                f"  round {i + 1}: raw smtplib {count / raw:8.0f} msg/s   worker {count / worker:8.0f} msg/s"
                f"   ratio {raw / worker:.2f}",
                flush=True,
            )
    return results


class PostgresDatabase(Database):
    def uow(self, **kwargs: Any) -> UnitOfWork:
        return UnitOfWork(make_session_factory(self.engine), pin_key=lambda: b"bench-key", **kwargs)


def postgres_database(tmp: Path) -> tuple[Database, Any]:
    """A throwaway PostgreSQL server (as the test suite starts one) with a migrated database."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support import postgres

    server = postgres.start()
    url = server.create_database("bench_mail")
    engine = make_engine(url)
    upgrade(engine)
    return PostgresDatabase(path=tmp, url=url, engine=engine), server


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=DeliveryPolicy().batch_size)
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
        server = None
        if args.postgres:
            db, server = postgres_database(Path(tmp))
        else:
            db = fresh_database(Path(tmp))
        try:
            seed_tenant(db)
            queue_mails(db.uow(), args.mails)
            backend = "PostgreSQL" if args.postgres else "SQLite"
            print(f"bench_mail: {args.mails} mails, {backend}, batch {args.batch_size}, {machine()}")
            results = run(db.uow(), count=args.mails, rounds=args.rounds, batch_size=args.batch_size)
        finally:
            db.engine.dispose()
            if server is not None:
                server.stop()

    raw = median([r.raw for r in results])
    worker = median([r.worker for r in results])
    # each round compares the two sides under the same conditions; the median of those ratios
    # is steadier on a shared machine than the ratio of the two medians
    ratio = median([r.raw / r.worker for r in results])
    print(f"raw smtplib loop : {args.mails / raw:8.0f} msg/s (median of {len(results)})")
    print(f"dialconf worker  : {args.mails / worker:8.0f} msg/s (median of {len(results)})")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(
        f"ratio            : {ratio:.2f} of the raw rate, median of the rounds ({verdict} the aim of {TARGET_RATIO})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
