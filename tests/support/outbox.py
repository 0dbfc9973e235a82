"""Test helpers around the outbox: queue many messages fast, and read rows straight from the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dialconf.domain.roles import Actor
from dialconf.services import resets
from dialconf.store.db import make_engine
from dialconf.store.models import OutboxMail
from tests.conftest import make_uow


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    status: str
    attempts: int
    last_error: str | None
    message_id: str
    to_addr: str
    body_text: str
    body_html: str
    redacted: bool


def outbox_rows(url: str) -> list[Row]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = OutboxMail.__table__
            result = conn.execute(select(t).order_by(t.c.id))
            return [
                Row(
                    id=r.id,
                    kind=r.kind,
                    status=r.status,
                    attempts=r.attempts,
                    last_error=r.last_error,
                    message_id=r.message_id,
                    to_addr=r.to_addr,
                    body_text=r.body_text,
                    body_html=r.body_html,
                    redacted=r.redacted,
                )
                for r in result
            ]
    finally:
        engine.dispose()


def statuses(url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in outbox_rows(url):
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def queue_info_mails(url: str, upn: str, count: int) -> None:
    """Queue `count` conference-info mails for one user, through the service, one transaction each."""
    uow = make_uow(url)
    for i in range(count):
        resets.send_info(uow, upn=upn, actor=Actor.operator(), to=f"reader{i}@contoso.com")
