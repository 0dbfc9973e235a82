"""User search at scale: `users.list_users` (what `user list --search`, the users page and the API call)
against the bare indexed SQL query and against the old LIKE scan, in the same run.

It builds one tenant of N users (default 1,000,000) in a migrated SQLite file with raw executemany
inserts (the search table's triggers fire as for any insert), each with a live static conference
ID, then times searches of each kind, interleaved:

  name prefix      the first 4-6 letters of a surname ("kanor"), a few hundred to a few thousand matches
  email fragment   7 characters from the middle of an address ("noru123"), one or a few matches
  conference ID    a user's ID as people type it ("123 456 7#"), one match
  first page       no search, the first 100 users by sign-in name
  keyset page      no search, the 100 users after a random sign-in name (`after=`)

Each search is timed three ways:
  service   users.list_users(..., search=..., limit=100): tenant check, page query, total count and
            the user views (bridge, numbers, conference IDs) of the page, as a surface gets them
  bare      the indexed page query alone (hand-written SQL, one statement, rows fetched)
  old LIKE  the query list_users ran before migration 0004 (below, kept verbatim): LIKE '%text%'
            over the tenant plus its count; a full scan each, so only a sample is timed

    python bench/bench_user_search.py                       # 1,000,000 users, 300 searches per kind
    python bench/bench_user_search.py --users 100000 --searches 100
    python bench/bench_user_search.py --postgres            # also PostgreSQL (needs its server binaries)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _support import OPERATOR, Database, fresh_database, machine, seed_tenant, sqlite_timestamp
from sqlalchemy import func, select

from dialconf.domain.ids import format_for_callers
from dialconf.services import users
from dialconf.store.db import make_engine
from dialconf.store.migrate import upgrade
from dialconf.store.models import Bridge, Tenant, User

TENANT = "contoso"
AIM_P99_MS = 100.0

# the query of list_users before migration 0004: a scan of the tenant per search, then a sort
OLD_PAGE = (
    "SELECT users.* FROM users WHERE users.tenant_id = :tenant AND (users.upn LIKE :p"
    " OR lower(users.display_name) LIKE :p OR lower(users.email) LIKE :p)"
    " ORDER BY users.upn LIMIT 100 OFFSET 0"
)
OLD_COUNT = (
    "SELECT count(*) FROM (SELECT users.id FROM users WHERE users.tenant_id = :tenant AND (users.upn LIKE :p"
    " OR lower(users.display_name) LIKE :p OR lower(users.email) LIKE :p))"
)

# the bare indexed page queries (SQLite), one statement each
BARE_TEXT = (  # CROSS JOIN: SQLite keeps the search table as the outer loop
    "SELECT users.* FROM users_search CROSS JOIN users ON users.id = users_search.rowid"
    " WHERE users_search MATCH :phrase AND users.tenant_id = :tenant AND (users.upn LIKE :p ESCAPE '\\'"
    " OR lower(users.display_name) LIKE :p ESCAPE '\\' OR lower(users.email) LIKE :p ESCAPE '\\')"
    " ORDER BY users.upn LIMIT 100"
)
BARE_ID = (
    "SELECT users.* FROM users WHERE +users.tenant_id = :tenant AND users.id IN"
    " (SELECT owner_user_id FROM conference_ids WHERE bridge_id IN (SELECT id FROM bridges)"
    " AND digits >= :low AND digits < :high AND state = 'live' AND kind = 'static')"
    " ORDER BY users.upn LIMIT 100"
)
BARE_FIRST = "SELECT users.* FROM users WHERE users.tenant_id = :tenant ORDER BY users.upn LIMIT 100"
BARE_AFTER = "SELECT users.* FROM users WHERE users.tenant_id = :tenant AND users.upn > :after ORDER BY users.upn LIMIT 100"

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Anders",
    "Aoife",
    "Arjun",
    "Astrid",
    "Aylin",
    "Bao",
    "Beatriz",
    "Bilal",
    "Bruno",
    "Camila",
    "Carlos",
    "Chen",
    "Chiara",
    "Dara",
    "David",
    "Diego",
    "Dmitri",
    "Elena",
    "Elif",
    "Emeka",
    "Emil",
    "Emma",
    "Eva",
    "Fatima",
    "Felix",
    "Freya",
    "Hana",
    "Hugo",
    "Ines",
    "Ingrid",
    "Isaac",
    "Ivan",
    "Jamal",
    "Jana",
    "Javier",
    "Jin",
    "Joao",
    "Jonas",
    "Julia",
    "Kai",
    "Kamal",
    "Karin",
    "Kenji",
    "Lara",
    "Lea",
    "Leon",
    "Liam",
    "Lin",
    "Luca",
    "Lucia",
    "Maja",
    "Malik",
    "Marco",
    "Maria",
    "Mateo",
    "Mei",
    "Mila",
    "Mohamed",
    "Nadia",
    "Nina",
    "Noah",
    "Nora",
    "Oliver",
    "Omar",
    "Oskar",
    "Paula",
    "Pedro",
    "Priya",
    "Rafael",
    "Rania",
    "Ravi",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Sven",
    "Tariq",
    "Tomas",
    "Uma",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
]
SYLLABLES = ["ka", "ro", "ne", "mi", "ta", "lu", "so", "ve", "di", "ba", "ren", "tor", "gal", "fin"]
SURNAMES = [(a + b + c).title() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]


def person(i: int) -> tuple[str, str, str, str]:
    """User i of the benchmark tenant: sign-in name, display name, email, conference ID."""
    first = FIRST_NAMES[(i * 31) % len(FIRST_NAMES)]
    last = SURNAMES[(i * 17 + i // len(FIRST_NAMES)) % len(SURNAMES)]
    upn = f"{first}.{last}{i}@{TENANT}.com".lower()
    email = f"{first[0]}{last}{i}@mail.{TENANT}.com".lower()
    # a bijection of 0..8,999,999 (7919 is prime to 9,000,000): distinct 7-digit IDs without a set
    digits = str(1_000_000 + (i * 7919 + 12345) % 9_000_000)
    return upn, f"{first} {last}", email, digits


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, []).append(seconds * 1000)

    def line(self, key: str) -> str:
        values = sorted(self.samples.get(key, []))
        if not values:
            return "-"
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        return f"p50 {statistics.median(values):8.2f}  p99 {p99:8.2f}  (n={len(values)})"

    def p(self, key: str, q: float) -> float:
        values = sorted(self.samples.get(key, []))
        return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def timed(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return result, time.perf_counter() - start


# -- SQLite ---------------------------------------------------------------------------------------


def build_sqlite(directory: Path, count: int) -> tuple[Database, int, float]:
    """A migrated SQLite file with `count` users of one tenant, each with a live static ID."""
    db = fresh_database(directory)
    seed_tenant(db, name=TENANT, auto_email=False)
    uow = db.uow()
    with uow:
        bridge = uow.session.scalars(select(Bridge).where(Bridge.name == "main")).one()
        tenant_id, bridge_id, toll_id = bridge.tenant_id, bridge.id, bridge.default_number_id
    now = sqlite_timestamp(datetime.now(UTC))
    start = time.perf_counter()
    db.engine.dispose()  # the raw connection below writes alone
    raw = sqlite3.connect(db.path, isolation_level=None)
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-400000")
    raw.execute("BEGIN")

    def user_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            upn, name, email, _ = person(i)
            yield (
                i + 1,
                tenant_id,
                bridge_id,
                upn,
                name,
                email,
                "builtin",
                1,
                toll_id,
                1,
                "[]",
                0,
                0,
                0,
                now,
                now,
            )

    raw.executemany(
        "INSERT INTO users (id, tenant_id, bridge_id, upn, display_name, email, provider, enabled,"
        " toll_number_id, toll_free_allowed, acp_toll_free_numbers, pin_failures_in_window,"
        " pin_total_failures, pin_locked_for_good, created_at, updated_at)"
        " VALUES (" + ", ".join("?" * 16) + ")",
        user_rows(),
    )
    raw.executemany(
        "INSERT INTO conference_ids (bridge_id, digits, state, kind, chosen, owner_user_id, created_at)"
        " VALUES (?, ?, 'live', 'static', 0, ?, ?)",
        ((bridge_id, person(i)[3], i + 1, now) for i in range(count)),
    )
    raw.execute("UPDATE bridges SET ids_in_use = ? WHERE id = ?", (count, bridge_id))
    raw.execute("COMMIT")
    raw.close()
    return db, tenant_id, time.perf_counter() - start


def fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Search:
    kind: str
    text: str | None = None
    after: str | None = None


def searches(count: int, per_kind: int, rng: random.Random) -> list[Search]:
    out: list[Search] = []
    for _ in range(per_kind):
        i = rng.randrange(count)
        _, name, email, digits = person(i)
        surname = name.split()[1].lower()
        out.append(Search("name prefix", surname[: rng.randint(4, 6)]))
        local = email.split("@")[0]
        start = rng.randrange(1, max(2, len(local) - 7))
        out.append(Search("email fragment", local[start : start + 7]))
        out.append(Search("conference ID", format_for_callers(digits)))
        out.append(Search("first page"))
        out.append(Search("keyset page", after=person(rng.randrange(count))[0]))
    rng.shuffle(out)
    return out


def bare_sqlite(conn: sqlite3.Connection, tenant_id: int, search: Search) -> list[Any]:
    if search.kind == "conference ID":
        assert search.text is not None
        digits = "".join(c for c in search.text if c.isdigit())
        params: dict[str, Any] = {"tenant": tenant_id, "low": digits, "high": digits + ":"}
        return conn.execute(BARE_ID, params).fetchall()
    if search.kind == "first page":
        return conn.execute(BARE_FIRST, {"tenant": tenant_id}).fetchall()
    if search.kind == "keyset page":
        return conn.execute(BARE_AFTER, {"tenant": tenant_id, "after": search.after}).fetchall()
    assert search.text is not None
    needle = search.text.lower()
    params = {"tenant": tenant_id, "phrase": fts_phrase(needle), "p": like(needle)}
    return conn.execute(BARE_TEXT, params).fetchall()


def old_like(conn: sqlite3.Connection, tenant_id: int, search: Search) -> int:
    pattern = f"%{(search.text or '').strip().lower()}%"
    conn.execute(OLD_PAGE, {"tenant": tenant_id, "p": pattern}).fetchall()
    return int(conn.execute(OLD_COUNT, {"tenant": tenant_id, "p": pattern}).fetchone()[0])


def broad_searches(count: int, per_kind: int, rng: random.Random) -> list[Search]:
    """Searches no index narrows much: a letter or two (no trigram), the first 3 digits of an ID."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = [
        Search("one or two letters", "".join(rng.choices(letters, k=rng.randint(1, 2))))
        for _ in range(per_kind)
    ]
    out += [Search("ID prefix", person(rng.randrange(count))[3][:3]) for _ in range(per_kind)]
    rng.shuffle(out)
    return out


def measure_broad(title: str, db: Database, args: argparse.Namespace) -> None:
    """Service time of the broad searches (docs/search.md: not what the indexes are for; no aim)."""
    timings = Timings()
    for search in broad_searches(args.users, args.broad_searches, random.Random(11)):
        _, seconds = timed(service_call, db, search)
        timings.add(search.kind, seconds)
    print(f"broad searches, {title}, {args.broad_searches} per kind (no aim: docs/search.md)")
    for kind in ("one or two letters", "ID prefix"):
        print(f"  {kind:20s} service {timings.line(kind)}  max {max(timings.samples[kind]):8.2f}")


HTTP_ADMIN = f"bench-admin@{TENANT}.com"
HTTP_PASSWORD = "bench password 1234"
HTTP_KINDS = ("name prefix", "email fragment", "conference ID", "first page")


def measure_http(title: str, db: Database, args: argparse.Namespace) -> None:
    """The users page and the API list call through the web app (in process, no network).

    The time is the whole request as the app handles it: session or token check, the service call,
    the page's template (25 users) or the API's JSON (100 users).
    """
    import re as regex

    from fastapi.testclient import TestClient

    from dialconf.config import Settings
    from dialconf.errors import AlreadyExists
    from dialconf.services import admins, tokens
    from dialconf.web.app import create_app

    with contextlib.suppress(AlreadyExists):  # a reused database has it
        admins.create_admin(
            db.uow(), email=HTTP_ADMIN, tenant=TENANT, role="admin", password=HTTP_PASSWORD, actor=OPERATOR
        )
    token = tokens.create_token(db.uow(), actor=admins.actor_for(db.uow(), HTTP_ADMIN), name="bench").token
    settings = Settings(database_url=db.url, secret_key="bench-" + "k" * 40, public_url="http://testserver")
    timings = Timings()
    app = create_app(settings)
    gc.collect()
    gc.freeze()  # as `dialconf serve` does once the app is built (cli/serve.py)
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/signin").text
        csrf = regex.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        signed = client.post(
            "/signin", data={"email": HTTP_ADMIN, "password": HTTP_PASSWORD, "csrf": csrf.group(1)}
        )
        assert signed.status_code == 303, signed.text
        bearer = {"Authorization": f"Bearer {token}"}
        plan = [
            s for s in searches(args.users, args.http_searches, random.Random(13)) if s.kind in HTTP_KINDS
        ]
        for search in plan[:8]:  # warm up, as the service timings do
            client.get("/users", params={"q": search.text or ""})
        for search in plan:
            text = search.text or ""
            answer, seconds = timed(client.get, "/users", params={"q": text})
            assert answer.status_code == 200, answer.text
            timings.add(f"page {search.kind}", seconds)
            params: dict[str, Any] = {"tenant": TENANT, "limit": 100}
            if text:
                params["search"] = text
            answer, seconds = timed(client.get, "/api/v1/users", params=params, headers=bearer)
            assert answer.status_code == 200, answer.text
            if search.kind != "first page":
                assert answer.json()["items"], search  # every search is drawn from a real user
            timings.add(f"api {search.kind}", seconds)
    print(f"users page (25 users) and API list call (100 users), {title}, {args.http_searches} per kind,")
    print("milliseconds per request (the web app in process, through Starlette's test client)")
    for kind in HTTP_KINDS:
        for side in ("page", "api"):
            key = f"{side} {kind}"
            verdict = "within" if timings.p(key, 0.99) < AIM_P99_MS else "OVER"
            print(f"  {kind:15s} {side:4s} {timings.line(key)}  p99 {verdict} {AIM_P99_MS:.0f} ms")


def service_call(db: Database, search: Search) -> Any:
    return users.list_users(
        db.uow(), tenant=TENANT, actor=OPERATOR, search=search.text, after=search.after, limit=100
    )


def reuse_sqlite(path: Path, count: int) -> tuple[Database, int]:
    """A file an earlier run built and kept (`--db`), upgraded to the newest schema (new migrations run)."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    start = time.perf_counter()
    upgrade(engine)
    print(f"reusing {path} (schema upgraded in {time.perf_counter() - start:.1f} s)", flush=True)
    with engine.connect() as c:
        tenant_id = c.execute(select(Tenant.id).where(Tenant.name == TENANT)).scalar_one()
        users_there = c.execute(select(func.count()).select_from(User)).scalar_one()
    if users_there != count:
        raise SystemExit(f"{path} holds {users_there:,} users, not --users {count:,}")
    return Database(path=path, url=url, engine=engine), tenant_id


def run_sqlite(args: argparse.Namespace, directory: Path) -> Timings:
    if args.db is not None and args.db.exists():
        db, tenant_id = reuse_sqlite(args.db, args.users)
    else:
        print(f"building {args.users:,} users in SQLite ...", flush=True)
        db, tenant_id, build_seconds = build_sqlite(directory, args.users)
        size_mb = db.path.stat().st_size / 1e6
        print(
            f"built in {build_seconds:.1f} s ({args.users / build_seconds:,.0f} users/s), file {size_mb:,.0f} MB"
        )
        if args.db is not None:
            db.engine.dispose()
            db.path.rename(args.db)
            db = Database(
                path=args.db, url=f"sqlite:///{args.db}", engine=make_engine(f"sqlite:///{args.db}")
            )
            print(f"kept as {args.db} (--db {args.db} reuses it)")
    if args.build_only:
        db.engine.dispose()
        return Timings()
    conn = sqlite3.connect(db.path)
    timings = Timings()
    rng = random.Random(7)
    plan = searches(args.users, args.searches, rng)
    # warm the page cache the way a running server would be: one search of each kind first
    for search in plan[:10]:
        service_call(db, search)
        bare_sqlite(conn, tenant_id, search)
    matches: dict[str, list[int]] = {}
    for search in plan:
        page, seconds = timed(service_call, db, search)
        timings.add(f"service {search.kind}", seconds)
        matches.setdefault(search.kind, []).append(-page.total if page.total_capped else page.total)
        if search.kind in ("name prefix", "email fragment", "conference ID"):
            assert page.total >= 1, search  # every search is drawn from a real user
        _, seconds = timed(bare_sqlite, conn, tenant_id, search)
        timings.add(f"bare {search.kind}", seconds)
    kinds = ("name prefix", "email fragment", "conference ID")
    old = [s for s in plan if s.kind in kinds]
    per_kind = {k: [s for s in old if s.kind == k][: args.old_searches] for k in kinds}
    print(f"old LIKE scan: {args.old_searches} searches per kind ...", flush=True)
    for k in kinds:
        for search in per_kind[k]:
            total, seconds = timed(old_like, conn, tenant_id, search)
            timings.add(f"old {k}", seconds)
            page = service_call(db, search)
            # the old query's matches are a subset of the new (a conference ID was not searchable)
            assert total <= page.total or page.total_capped, (search, total, page.total)
    conn.close()
    report("SQLite", args, timings, matches)
    measure_broad("SQLite", db, args)
    if args.http_searches:
        measure_http("SQLite", db, args)
    db.engine.dispose()
    return timings


def report(title: str, args: argparse.Namespace, timings: Timings, matches: dict[str, list[int]]) -> None:
    print()
    print(f"User search, {title}, {args.users:,} users in one tenant, {args.searches} searches per kind")
    print(machine())
    print("milliseconds per search (server side, in process)")
    for kind in ("name prefix", "email fragment", "conference ID", "first page", "keyset page"):
        # a capped count is stored negated: "more than N"
        found = [abs(n) for n in matches.get(kind, [])]
        capped = sum(1 for n in matches.get(kind, []) if n < 0)
        print(
            f"{kind}  (matches counted: median {statistics.median(found) if found else 0:,.0f},"
            f" max {max(found, default=0):,}; {capped} of {len(found)} counts capped: more than that)"
        )
        for side in ("service", "bare", "old"):
            if f"{side} {kind}" in timings.samples:
                print(f"  {side:8s} {timings.line(f'{side} {kind}')}")
        service, bare = timings.p(f"service {kind}", 0.5), timings.p(f"bare {kind}", 0.5)
        ratio = f"service/bare p50 {service / bare:.1f}x" if bare == bare and bare > 0 else ""
        old = timings.p(f"old {kind}", 0.5)
        speedup = f", old/service p50 {old / service:,.0f}x" if old == old else ""
        p99 = timings.p(f"service {kind}", 0.99)
        print(
            f"  {ratio}{speedup}; service p99 {'within' if p99 < AIM_P99_MS else 'OVER'} {AIM_P99_MS:.0f} ms"
        )


# -- PostgreSQL -----------------------------------------------------------------------------------


PG_TRIGRAM_INDEXES = (  # as migration 0004 makes them
    "CREATE INDEX ix_users_upn_trgm ON users USING gin (upn gin_trgm_ops)",
    "CREATE INDEX ix_users_display_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops)",
    "CREATE INDEX ix_users_email_trgm ON users USING gin (lower(email) gin_trgm_ops)",
)


def pg_sql(query: str) -> str:
    """The SQLite text of a query in psycopg's parameter style."""
    return re.sub(r":(\w+)", r"%(\1)s", query)


def bare_postgres(conn: Any, tenant_id: int, search: Search) -> list[Any]:
    if search.kind in ("name prefix", "email fragment"):
        assert search.text is not None
        query = pg_sql(  # the tenant as the service writes it (`+ 0`: the trigram indexes, not the upn walk)
            "SELECT users.* FROM users WHERE users.tenant_id + 0 = :tenant AND (users.upn LIKE :p"
            " OR lower(users.display_name) LIKE :p OR lower(users.email) LIKE :p) ORDER BY users.upn LIMIT 100"
        )
        return list(conn.execute(query, {"tenant": tenant_id, "p": like(search.text.lower())}).fetchall())
    if search.kind == "conference ID":
        assert search.text is not None
        digits = "".join(c for c in search.text if c.isdigit())
        params = {"tenant": tenant_id, "low": digits, "high": digits + ":"}
        return list(conn.execute(pg_sql(BARE_ID), params).fetchall())
    if search.kind == "first page":
        return list(conn.execute(pg_sql(BARE_FIRST), {"tenant": tenant_id}).fetchall())
    return list(conn.execute(pg_sql(BARE_AFTER), {"tenant": tenant_id, "after": search.after}).fetchall())


def old_postgres(conn: Any, tenant_id: int, search: Search) -> int:
    pattern = f"%{(search.text or '').strip().lower()}%"
    conn.execute(pg_sql(OLD_PAGE), {"tenant": tenant_id, "p": pattern}).fetchall()
    return int(
        conn.execute(pg_sql(OLD_COUNT) + " AS matching", {"tenant": tenant_id, "p": pattern}).fetchone()[0]
    )


def run_postgres(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import psycopg
    from tests.support import postgres

    if args.pg_url:
        # a database an earlier run loaded (--keep-pg printed its URL): upgraded, not built again
        url = args.pg_url
        engine = make_engine(url)
        upgrade(engine)
        with engine.connect() as c:
            tenant_id = c.execute(select(Tenant.id).where(Tenant.name == TENANT)).scalar_one()
        db = Database(path=Path("/nonexistent"), url=url, engine=engine)
        print(f"reusing {url}", flush=True)
        measure_postgres(args, db, tenant_id)
        engine.dispose()
        return
    server = postgres.start()
    try:
        url = server.create_database("bench_search")
        engine = make_engine(url)
        upgrade(engine)
        db = Database(path=Path("/nonexistent"), url=url, engine=engine)
        seed_tenant(db, name=TENANT, auto_email=False)
        with engine.connect() as c:
            tenant_id, bridge_id, toll_id = c.execute(
                select(Bridge.tenant_id, Bridge.id, Bridge.default_number_id).where(Bridge.name == "main")
            ).one()
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        print(f"building {args.users:,} users in PostgreSQL ...", flush=True)
        now = datetime.now(UTC)
        start = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            for index in ("ix_users_upn_trgm", "ix_users_display_name_trgm", "ix_users_email_trgm"):
                conn.execute(f"DROP INDEX {index}")  # type: ignore[arg-type]
            with conn.cursor().copy(
                "COPY users (id, tenant_id, bridge_id, upn, display_name, email, provider, enabled,"
                " toll_number_id, toll_free_allowed, acp_toll_free_numbers, pin_failures_in_window,"
                " pin_total_failures, pin_locked_for_good, created_at, updated_at) FROM STDIN"
            ) as copy:
                for i in range(args.users):
                    upn, name, email, _ = person(i)
                    row = (i + 1, tenant_id, bridge_id, upn, name, email, "builtin", True, toll_id, True)
                    copy.write_row((*row, "[]", 0, 0, False, now, now))
            with conn.cursor().copy(
                "COPY conference_ids (bridge_id, digits, state, kind, chosen, owner_user_id, created_at)"
                " FROM STDIN"
            ) as copy:
                for i in range(args.users):
                    copy.write_row((bridge_id, person(i)[3], "live", "static", False, i + 1, now))
            conn.execute("SELECT setval('users_id_seq', %s)", (args.users + 1,))
            conn.commit()
            copied = time.perf_counter() - start
            conn.execute("SET maintenance_work_mem = '256MB'")
            for statement in PG_TRIGRAM_INDEXES:
                conn.execute(statement)  # type: ignore[arg-type]
            conn.commit()
            indexed = time.perf_counter() - start - copied
            # what autovacuum does soon after a bulk load: the visibility map that lets the names
            # index answer alone (measured without it, autovacuum ran in the middle of the searches)
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        print(
            f"built in {time.perf_counter() - start:.1f} s (COPY {copied:.1f} s, trigram indexes {indexed:.1f} s)"
        )
        measure_postgres(args, db, tenant_id)
        engine.dispose()
    finally:
        if args.keep_pg:
            print(f"server kept running (data directory {server.root}): --pg-url {url}")
        else:
            server.stop()


def measure_postgres(args: argparse.Namespace, db: Database, tenant_id: int) -> None:
    import psycopg

    dsn = db.url.replace("postgresql+psycopg://", "postgresql://")
    timings = Timings()
    matches: dict[str, list[int]] = {}
    plan = searches(args.users, args.pg_searches, random.Random(7))
    with psycopg.connect(dsn, autocommit=True) as conn:
        for search in plan[:10]:
            service_call(db, search)
            bare_postgres(conn, tenant_id, search)
        for search in plan:
            page, seconds = timed(service_call, db, search)
            timings.add(f"service {search.kind}", seconds)
            matches.setdefault(search.kind, []).append(-page.total if page.total_capped else page.total)
            _, seconds = timed(bare_postgres, conn, tenant_id, search)
            timings.add(f"bare {search.kind}", seconds)
        # the old plan: without the trigram indexes (bitmap scans off), as before migration 0004
        conn.execute("SET enable_bitmapscan = off")
        for kind in ("name prefix", "email fragment", "conference ID"):
            for search in [s for s in plan if s.kind == kind][: args.old_searches]:
                _, seconds = timed(old_postgres, conn, tenant_id, search)
                timings.add(f"old {kind}", seconds)
    report("PostgreSQL 15", argparse.Namespace(users=args.users, searches=args.pg_searches), timings, matches)
    measure_broad("PostgreSQL 15", db, args)
    if args.http_searches:
        measure_http("PostgreSQL 15", db, args)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=300, help="searches per kind")
    parser.add_argument(
        "--old-searches", type=int, default=10, help="old LIKE scans per kind (each a full scan)"
    )
    parser.add_argument(
        "--broad-searches",
        type=int,
        default=20,
        help="searches per broad kind (a letter or two, 3 ID digits)",
    )
    parser.add_argument(
        "--http-searches",
        type=int,
        default=200,
        help="users page and API requests per kind (0: none)",
    )
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL")
    parser.add_argument("--pg-searches", type=int, default=200)
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument(
        "--keep-pg", action="store_true", help="leave the PostgreSQL server running, print its URL"
    )
    parser.add_argument(
        "--pg-url", default=None, help="measure this already loaded database instead of building one"
    )
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file to keep the built users in, and to reuse when it exists (upgraded to the newest schema)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build (or upgrade) the --db file, time nothing"
    )
    args = parser.parse_args()
    if not args.no_sqlite:
        # a kept file is built beside where it stays, then renamed
        where = args.db.resolve().parent if args.db is not None else args.dir
        with tempfile.TemporaryDirectory(dir=where) as directory:
            run_sqlite(args, Path(directory))
    if args.postgres or args.no_sqlite:
        run_postgres(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
