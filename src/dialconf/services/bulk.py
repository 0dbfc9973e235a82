"""What the bulk paths (import, bulk ID reset, bulk PIN reset) share: rows written many at a time.

A bulk job writes thousands of outbox, audit and ID rows that it never reads back as objects, so it
hands them to one executemany per chunk instead of the ORM, which costs several times more per row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, insert

from dialconf.domain.ids import format_for_callers
from dialconf.mail.compose import MailInfo, MailKind
from dialconf.services.outbox import mail_info, mail_values
from dialconf.store.models import Base, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

_BIG_CACHE = "dialconf_bulk_cache"
_CACHE_KIB = 64 * 1024


def insert_rows(uow: UnitOfWork, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert many rows of `model`'s table in one executemany (None is stored as NULL, as given).

    Every row must have the same keys. On SQLite the values go through each column's own bind
    processor (the one SQLAlchemy's Core insert applies: datetimes as text, JSON as text, booleans
    as 0/1), so the stored values are identical, and then straight to the DB-API cursor: Core's
    per-row parameter processing costs more than SQLite's own insert. Other databases, and any
    table with a Python-side default for a column left out, take the Core insert.
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    connection = uow.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    missing_defaults = any(
        c.default is not None and c.name not in rows[0] and not c.primary_key for c in table.columns
    )
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark" or missing_defaults:
        uow.session.execute(insert(table), rows)
        return
    if not connection.info.get(_BIG_CACHE):
        # a bulk chunk touches more index pages than SQLite's default 2 MB page cache holds; a bigger
        # cache only keeps more pages in memory (it changes nothing about what is written, or when)
        connection.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")
        connection.info[_BIG_CACHE] = True
    processors = [table.c[n].type._cached_bind_processor(dialect) for n in names]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    converted: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (i, p, {}) for i, p in enumerate(processors) if p is not None
    ]
    get = itemgetter(*names)
    params = []
    for row in rows:
        values = list(get(row)) if len(names) > 1 else [row[names[0]]]
        for i, process, memo in converted:
            value = values[i]
            if isinstance(value, datetime):  # a chunk repeats its `now`: format it once
                done = memo.get(value)
                if done is None:
                    done = memo[value] = process(value)
                values[i] = done
            else:
                values[i] = process(value)
        params.append(tuple(values))
    connection.exec_driver_sql(sql, params)


class MailBuilder:
    """outbox.mail_info + outbox.mail_values for many users of one tenant, with the same result.

    A builtin user's MailInfo differs from another's only in its personal fields once the tenant and
    the user's numbers are the same, so the rest is built once per (toll number, toll-free number,
    toll-free allowed) and copied with the personal fields replaced. `user` is anything with the
    User attributes mail_info reads (an ORM object, a Core row of those columns).
    """

    def __init__(self, uow: UnitOfWork, tenant: Tenant, kind: MailKind) -> None:
        self.uow, self.tenant, self.kind = uow, tenant, kind
        self.numbers: dict[int, ServiceNumber] = {}
        self.bases: dict[tuple[Any, ...], MailInfo] = {}

    def info(
        self,
        user: Any,
        *,
        conference_id: str | None,
        pin: str | None = None,
        previous_conference_id: str | None = None,
    ) -> MailInfo:
        if user.provider != "builtin":
            return mail_info(
                self.uow,
                self.tenant,
                user,
                conference_id=conference_id,
                pin=pin,
                previous_conference_id=previous_conference_id,
                numbers_cache=self.numbers,
            )
        key = (user.toll_number_id, user.toll_free_number_id, bool(user.toll_free_allowed))
        base = self.bases.get(key)
        if base is None:
            base = mail_info(self.uow, self.tenant, user, conference_id=None, numbers_cache=self.numbers)
            self.bases[key] = base
        # dataclasses.replace() without its per-field checks: the same fields, four of them new
        return MailInfo(
            **{
                **base.__dict__,
                "display_name": user.display_name,
                "conference_id": format_for_callers(conference_id) if conference_id else None,
                "pin": pin,
                "previous_conference_id": (
                    format_for_callers(previous_conference_id) if previous_conference_id else None
                ),
            }
        )

    def values(
        self,
        user: Any,
        *,
        conference_id: str | None,
        pin: str | None = None,
        previous_conference_id: str | None = None,
        to: str | None = None,
    ) -> dict[str, Any]:
        """The outbox row of `user`'s email, as mail_values(mail_info(...)) would give it."""
        info = self.info(
            user, conference_id=conference_id, pin=pin, previous_conference_id=previous_conference_id
        )
        return mail_values(self.uow, self.tenant, cast(User, user), self.kind, info, to=to)
