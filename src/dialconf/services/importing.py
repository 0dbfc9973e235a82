"""CSV import and export of users. An import is all or nothing: every bad row is reported first."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from dialconf.domain import ids, numbers
from dialconf.domain.ids import ConferenceId, parse_third_party_id
from dialconf.domain.pins import generate_pin, hash_pin
from dialconf.domain.roles import Actor, Permission
from dialconf.errors import ConferenceIdSpaceExhausted, DialconfError, Invalid, InvalidInput
from dialconf.mail.compose import MailKind
from dialconf.services import conference_ids
from dialconf.services.bulk import MailBuilder, insert_rows
from dialconf.services.common import audit_values, get_bridge, get_tenant
from dialconf.services.directory import pick_default_numbers, user_views
from dialconf.services.outbox import wants_email
from dialconf.services.tenants import domains_of, require_sign_in_domain, validate_email
from dialconf.services.users import validate_name, validate_provider, validate_upn
from dialconf.store.models import AuditEvent, Bridge, ConferenceIdRow, OutboxMail, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

REQUIRED = ("upn", "email", "name")
OPTIONAL = ("country", "provider", "toll_number", "toll_free_number", "conference_id")
COLUMNS = REQUIRED + OPTIONAL
INSERT_CHUNK = 2000
Progress = Callable[[int, int], None]


class ImportRejected(Invalid):
    """Some rows are bad; nothing was imported. `problems` lists (line number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"line {line}: {message}" for line, message in problems[:200])
        more = f"\n... and {len(problems) - 200} more" if len(problems) > 200 else ""
        # a row can have several problems; the count is of rows, as the message says
        rows = len({line for line, _ in problems})
        super().__init__(f"{rows} bad row(s); nothing was imported\n{lines}{more}")


@dataclass
class ImportReport:
    tenant: str
    rows: int
    imported: int
    dry_run: bool
    emails_queued: int
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "rows": self.rows,
            "imported": self.imported,
            "dry_run": self.dry_run,
            "emails_queued": self.emails_queued,
            "problems": self.problems,
        }


Rows = Iterable[tuple[int, dict[str, str]]]
# a spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"): the
# export puts a quote before it, which spreadsheets hide, and the import takes that quote off again
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_csv(source: str | Iterable[str], *, name: str = "users.csv") -> Rows:
    """The rows of a user CSV with their line numbers, read as they are consumed, never all at once.

    `source` is the text, or its lines (an open file); `name` names it in messages. A bad header is
    refused here (InvalidInput); a line the CSV reader cannot read is refused as the rows are read.
    """
    lines = io.StringIO(source) if isinstance(source, str) else iter(source)
    reader = csv.reader(_without_bom(lines))
    try:
        first = next(reader, [])
    except csv.Error as exc:
        raise _unreadable(name, reader.line_num, exc) from exc
    header = [h.strip().lower() for h in first]
    _check_header(header, name)
    return _records(reader, header, name)


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    it = iter(lines)
    for first in it:
        yield first.removeprefix("\ufeff")
        break
    yield from it


def _check_header(header: list[str], name: str) -> None:
    twice = [c for i, c in enumerate(header) if c in header[:i]]
    if twice:
        raise InvalidInput(f"{name}: column '{twice[0]}' appears twice")
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    parts = []
    if missing:
        parts.append("missing column(s): " + ", ".join(missing))
    if unknown:
        parts.append("unknown column(s): " + ", ".join(unknown) + f" (known: {', '.join(COLUMNS)})")
    if parts:
        raise InvalidInput(f"{name}: " + "; ".join(parts))


def _records(reader: Any, header: list[str], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    width = len(header)
    while True:
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise _unreadable(name, reader.line_num, exc) from exc
        if record is None:
            return
        line = reader.line_num
        if any("\x00" in value for value in record):
            # a NUL is no text: PostgreSQL refuses it in a text column, SQLite would keep it
            raise InvalidInput(f"{name} line {line}: contains a NUL character")
        if len(record) > width:
            yield line, {"__error__": "more values than columns"}
            continue
        values = {column: _unquoted(value.strip()) for column, value in zip(header, record, strict=False)}
        if not any(values.values()):
            continue
        yield line, values


def _unreadable(name: str, line: int, exc: csv.Error) -> InvalidInput:
    if "field larger than field limit" in str(exc):
        return InvalidInput(f"{name} line {line}: a field is longer than {csv.field_size_limit()} characters")
    return InvalidInput(f"{name} line {line}: not readable as CSV ({exc})")


def _unquoted(value: str) -> str:
    """Take off the quote the export puts before a formula character (see FORMULA_STARTS)."""
    return value[1:] if value.startswith("'") and _formula_behind_quotes(value) else value


def _neutralised(value: str) -> str:
    """Put a quote before a cell a spreadsheet would run; _unquoted gives back exactly `value`."""
    # a value that starts with quotes and then a formula character gets one more, which import takes off
    return "'" + value if _formula_behind_quotes(value) else value


def _formula_behind_quotes(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_STARTS)


@dataclass(slots=True)
class _Row:
    line: int
    upn: str
    email: str
    name: str
    country: str | None
    provider: str
    toll_id: int | None
    toll_free_id: int | None
    conference_id: str | None


def import_users(
    uow: UnitOfWork,
    *,
    tenant: str,
    rows: Rows,
    actor: Actor,
    dry_run: bool = False,
    bridge: str | None = None,
    send_email: bool | None = None,
    progress: Progress | None = None,
    allow_weak: bool = False,
) -> ImportReport:
    """Enable every user of the file in one transaction, or none of them.

    Every sign-in name must end in one of the tenant's domains; chosen conference IDs must not be
    trivially guessable unless `allow_weak` (for the whole file). `rows` (from read_csv) are read
    once, as they come: every row is checked before anything is written, and only the checked rows
    are kept, not the file.
    """
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_USERS)
        b = get_bridge(uow, t, bridge)
        count = _Counted(rows)
        good, problems = _validate(uow, t, b, count, allow_weak=allow_weak)
        if problems:
            raise ImportRejected(problems)
        queued = 0
        if not dry_run and good:
            queued = _insert_all(uow, t, b, good, actor, send_email, progress)
            uow.commit()
        return ImportReport(
            tenant=t.name,
            rows=count.n,
            imported=0 if dry_run else len(good),
            dry_run=dry_run,
            emails_queued=queued,
        )


class _Counted:
    """The rows, counting them as they go by."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        for row in self._rows:
            self.n += 1
            yield row


def _validate(
    uow: UnitOfWork,
    tenant: Tenant,
    bridge: Bridge,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    allow_weak: bool = False,
) -> tuple[list[_Row], list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    domains = domains_of(uow, tenant)
    good: list[_Row] = []
    nums = {
        n.e164: n
        for n in uow.session.scalars(select(ServiceNumber).where(ServiceNumber.bridge_id == bridge.id))
    }
    defaults_by_country: dict[str | None, tuple[int | None, int | None]] = {}
    seen_upns: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for line, values in rows:
        try:
            if "__error__" in values:
                raise Invalid(values["__error__"])
            for column in REQUIRED:
                if not values.get(column):
                    raise Invalid(f"'{column}' is empty")
            upn = validate_upn(values["upn"])
            # a row outside the tenant's domains never reaches the "already exists" check below
            require_sign_in_domain(upn, tenant, domains)
            if upn in seen_upns:
                raise Invalid(f"user '{upn}' is already on line {seen_upns[upn]}")
            seen_upns[upn] = line
            email = validate_email(values["email"])
            name = validate_name(values["name"])
            country = numbers.validate_country(values["country"]) if values.get("country") else None
            provider = validate_provider(values.get("provider") or "builtin")
            toll_id = _number_id(nums, values.get("toll_number"), toll_free=False, bridge=bridge)
            free_id = _number_id(nums, values.get("toll_free_number"), toll_free=True, bridge=bridge)
            if country not in defaults_by_country:
                d = pick_default_numbers(uow, bridge, country)
                defaults_by_country[country] = (
                    d.toll.id if d.toll else None,
                    d.toll_free.id if d.toll_free else None,
                )
            default_toll, default_free = defaults_by_country[country]
            conference_id = None
            if values.get("conference_id"):
                if provider == "third-party":
                    conference_id = parse_third_party_id(values["conference_id"])
                elif tenant.conference_id_mode == "dynamic":
                    raise Invalid(
                        "the tenant uses dynamic conference IDs, so a builtin user has no personal ID to import"
                    )
                else:
                    conference_id = ConferenceId.parse(
                        values["conference_id"], length=bridge.id_length
                    ).digits
                    ids.check_chosen(conference_id, allow_weak=allow_weak)
                    if conference_id in seen_ids:
                        raise Invalid(
                            f"conference ID {conference_id} is also on line {seen_ids[conference_id]}"
                        )
                    seen_ids[conference_id] = line
            good.append(
                _Row(
                    line=line,
                    upn=upn,
                    email=email,
                    name=name,
                    country=country,
                    provider=provider,
                    toll_id=toll_id or default_toll,
                    toll_free_id=free_id or default_free,
                    conference_id=conference_id,
                )
            )
        except DialconfError as exc:
            problems.append((line, exc.message))
    # what the database already holds: existing users and IDs that are taken or quarantined
    by_upn = {r.upn: r.line for r in good}
    for chunk in _chunks(list(by_upn), 900):
        for upn in uow.session.scalars(select(User.upn).where(User.upn.in_(chunk))):
            problems.append((by_upn[upn], f"user '{upn}' already exists"))
    by_id = {r.conference_id: r.line for r in good if r.conference_id and r.provider == "builtin"}
    now = uow.now()
    for chunk in _chunks(list(by_id), 900):
        for row in uow.session.scalars(
            select(ConferenceIdRow).where(
                ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits.in_(chunk)
            )
        ):
            if row.state == "live":
                problems.append(
                    (by_id[row.digits], f"conference ID {row.digits} is already in use on this bridge")
                )
            elif row.quarantine_until is not None and row.quarantine_until > now:
                problems.append(
                    (
                        by_id[row.digits],
                        f"conference ID {row.digits} is quarantined until {row.quarantine_until.date()}",
                    )
                )
    problems.sort()
    return good, problems


def _number_id(
    nums: dict[str, ServiceNumber], text: str | None, *, toll_free: bool, bridge: Bridge
) -> int | None:
    if not text:
        return None
    e164 = numbers.parse_e164(text)
    row = nums.get(e164)
    if row is None:
        raise Invalid(f"{e164} is not a service number on bridge '{bridge.name}'")
    if row.toll_free != toll_free:
        raise Invalid(f"{e164} is {'toll-free' if row.toll_free else 'a toll number'}; wrong column")
    return row.id


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# the User columns mail_info reads that an import never sets
_ACP_UNSET = {
    "acp_provider_name": None,
    "acp_toll_number": None,
    "acp_participant_passcode": None,
    "acp_url": None,
}


def _insert_all(
    uow: UnitOfWork,
    tenant: Tenant,
    bridge: Bridge,
    rows: list[_Row],
    actor: Actor,
    send_email: bool | None,
    progress: Progress | None,
) -> int:
    session, now, key = uow.session, uow.now(), uow.pin_key
    total = len(rows)
    static = tenant.conference_id_mode == "static"
    builtin_rows = [r for r in rows if r.provider == "builtin"]
    chosen_ids = {r.conference_id for r in builtin_rows if r.conference_id}
    wanted = sum(1 for r in builtin_rows if r.conference_id is None)
    # the bridge is locked before the first write: what _validate saw of its IDs may have changed since
    in_use = conference_ids.lock_bridge(uow, bridge) if static else 0
    generated = _draw_ids(uow, bridge, wanted, exclude=chosen_ids, in_use=in_use) if static else []
    email_on = wants_email(tenant, send_email)
    mailer = MailBuilder(uow, tenant, MailKind.WELCOME)
    queued = 0
    done = 0
    if progress:
        progress(0, total)
    for chunk in _chunks(rows, INSERT_CHUNK):
        pins: dict[str, str] = {}
        user_dicts = []
        for r in chunk:
            pin = generate_pin(uow.rng, tenant.pin_length) if r.provider == "builtin" else None
            if pin:
                pins[r.upn] = pin
            user_dicts.append(
                {
                    "tenant_id": tenant.id,
                    "bridge_id": bridge.id,
                    "upn": r.upn,
                    "display_name": r.name,
                    "email": r.email,
                    "country": r.country,
                    "phone": None,
                    "provider": r.provider,
                    "enabled": True,
                    "toll_number_id": r.toll_id,
                    "toll_free_number_id": r.toll_free_id,
                    "toll_free_allowed": True,
                    "acp_conference_id": r.conference_id if r.provider == "third-party" else None,
                    "acp_toll_free_numbers": [],
                    "pin_hash": hash_pin(key, r.upn, pin) if pin else None,
                    "pin_length": len(pin) if pin else None,
                    "pin_set_at": now if pin else None,
                    "pin_failures_in_window": 0,
                    "pin_total_failures": 0,
                    "pin_locked_for_good": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        # Core, not ORM, inserts: the ORM leaves a None column out of its row, so rows of different
        # shapes (with and without a country, say) went out one statement each instead of as one batch
        users_table = cast(Table, User.__table__)
        inserted = session.execute(
            insert(users_table).returning(users_table.c.upn, users_table.c.id), user_dicts
        )
        ids_by_upn: dict[str, int] = {upn: user_id for upn, user_id in inserted}
        id_rows = []
        digits_by_upn: dict[str, str] = {}
        if static:
            chosen: dict[int, str] = {}
            for r in chunk:
                if r.provider != "builtin":
                    continue
                if r.conference_id:
                    digits_by_upn[r.upn] = chosen[ids_by_upn[r.upn]] = r.conference_id
                    continue
                digits = digits_by_upn[r.upn] = generated.pop()
                id_rows.append(
                    {
                        "bridge_id": bridge.id,
                        "digits": digits,
                        "state": "live",
                        "kind": "static",
                        "chosen": False,
                        "owner_user_id": ids_by_upn[r.upn],
                        "created_at": now,
                    }
                )
            insert_rows(uow, ConferenceIdRow, id_rows)
            # a chosen ID may be one whose quarantine is over: claim_many makes its old row live again
            conference_ids.claim_many(uow, bridge, chosen)
        # the users as inserted, not read back: mail_info reads only what user_dicts hold and the
        # third-party details, which an import leaves NULL
        mails, audits = [], []
        for values in user_dicts:
            user = SimpleNamespace(**values, **_ACP_UNSET)
            digits = digits_by_upn.get(user.upn) or user.acp_conference_id
            if email_on:
                mails.append(mailer.values(user, conference_id=digits, pin=pins.get(user.upn)))
            audits.append(
                audit_values(
                    uow,
                    actor,
                    "user.enable",
                    user.upn,
                    tenant_id=tenant.id,
                    after={
                        "provider": user.provider,
                        "bridge": bridge.name,
                        "conference_id": digits_by_upn.get(user.upn),
                        "pin": "set" if user.upn in pins else None,  # masked: '***', as enable_user's audit
                        "email_queued": email_on,
                        "source": "import",
                    },
                )
                | {"at": now}  # the whole import at one time, as before
            )
        insert_rows(uow, OutboxMail, mails)
        insert_rows(uow, AuditEvent, audits)
        queued += len(mails)
        session.expunge_all()
        done += len(chunk)
        if progress:
            progress(done, total)
    if static and wanted:
        # claim_many counted the chosen IDs it added; the generated ones are counted here at once
        session.execute(
            update(Bridge).where(Bridge.id == bridge.id).values(ids_in_use=Bridge.ids_in_use + wanted)
        )
    return queued


def _draw_ids(uow: UnitOfWork, bridge: Bridge, count: int, *, exclude: set[str], in_use: int) -> list[str]:
    """Draw `count` free random IDs for a bulk import (bridge locked), checking the database in large batches."""
    if count == 0:
        return []
    session = uow.session
    space = ids.usable_space(bridge.id_length)
    if in_use + count + len(exclude) > space:
        raise ConferenceIdSpaceExhausted(bridge.name, bridge.id_length)
    chosen: dict[str, None] = {}
    attempts = 0
    while len(chosen) < count:
        attempts += 1
        if attempts > 50:
            raise ConferenceIdSpaceExhausted(bridge.name, bridge.id_length)
        want = count - len(chosen)
        occupancy = min((in_use + len(chosen)) / space, 0.999)
        batch = ids.draw_batch(uow.rng, bridge.id_length, int(want / max(1 - occupancy, 0.01) * 1.2) + 16)
        batch = [d for d in batch if d not in chosen and d not in exclude]
        taken: set[str] = set()
        for chunk in _chunks(batch, 900):
            taken.update(
                session.scalars(
                    select(ConferenceIdRow.digits).where(
                        ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits.in_(chunk)
                    )
                )
            )
        for digits in batch:
            if digits not in taken and len(chosen) < count:
                chosen[digits] = None
    return list(chosen)


def export_users(uow: UnitOfWork, *, tenant: str, actor: Actor) -> str:
    """All users of a tenant as CSV, in the import format, safe to open in a spreadsheet (FORMULA_STARTS)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for cells in export_rows(uow, tenant=tenant, actor=actor):
        writer.writerow([_neutralised(cell) for cell in cells])
    return out.getvalue()


def export_rows(uow: UnitOfWork, *, tenant: str, actor: Actor) -> Iterator[list[str]]:
    """The cells of each user of a tenant, in COLUMNS order ("" when empty), as stored: not neutralised."""
    with uow.read():
        t = get_tenant(uow, tenant, actor)
        last_id = 0
        while True:
            users = list(
                uow.session.scalars(
                    select(User)
                    .where(User.tenant_id == t.id, User.id > last_id)
                    .order_by(User.id)
                    .limit(2000)
                )
            )
            if not users:
                break
            last_id = users[-1].id
            for v in user_views(uow, users):
                yield [
                    v.upn,
                    v.email,
                    v.display_name,
                    v.country or "",
                    v.provider,
                    v.toll_number or "",
                    v.toll_free_number or "",
                    v.conference_id or "",
                ]
            uow.session.expunge_all()
