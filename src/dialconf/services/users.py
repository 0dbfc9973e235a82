"""Users enabled for audio conferencing: enable, disable, look up, providers and default numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, func, literal, select

from dialconf.domain import numbers
from dialconf.domain.ids import ConferenceId, parse_third_party_id
from dialconf.domain.pins import generate_pin, hash_pin
from dialconf.domain.roles import Actor, Permission
from dialconf.domain.text import clean_name
from dialconf.errors import AlreadyExists, InvalidConferenceId, InvalidInput, NotAllowedForProvider
from dialconf.mail.compose import MailKind
from dialconf.services import conference_ids
from dialconf.services.common import audit, get_bridge, get_tenant, get_user, normalise_upn
from dialconf.services.directory import number_on_bridge, pick_default_numbers, user_view, user_views
from dialconf.services.meeting_migrations import (
    queue_migration,
    release_upcoming_meeting_ids,
    renew_meeting_ids,
)
from dialconf.services.outbox import mail_info, queue_mail, wants_email
from dialconf.services.search import TRIGRAM, search_condition, search_needle, tenant_users
from dialconf.services.tenants import domains_of, require_sign_in_domain, validate_email
from dialconf.services.views import ActionResult, Page, UserView
from dialconf.store.models import Bridge, Tenant, User
from dialconf.store.uow import UnitOfWork

PROVIDERS = ("builtin", "third-party")
MAX_LIST_LIMIT = 1000
# list_users counts the users of a list up to this many (index entries: cheap), and the matches of a
# search up to SEARCH_COUNT_CAP (each checked against the search: ~1-3 µs a row); a page then says
# "more than 10,000" or "more than 1,000"
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000
# a search with more matches than that looks for its page among this many users in sign-in name order
# (the ix_users_tenant_names index, migration 0007) before it sorts every match
NEARBY = 20_000


def validate_upn(upn: str) -> str:
    value = normalise_upn(upn or "")
    if not value or len(value) > 320 or "@" not in value or " " in value:
        raise InvalidInput(f"'{upn}' is not a valid sign-in name (UPN), such as ada@contoso.com")
    return value


def validate_name(name: str) -> str:
    value = clean_name(name or "")
    if not value or len(value) > 200:
        raise InvalidInput("display name must be 1 to 200 characters")
    return value


def validate_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidInput(f"provider must be 'builtin' or 'third-party', not '{provider}'")
    return provider


def enable_user(
    uow: UnitOfWork,
    *,
    tenant: str,
    upn: str,
    email: str,
    name: str,
    actor: Actor,
    country: str | None = None,
    provider: str = "builtin",
    toll_number: str | None = None,
    toll_free_number: str | None = None,
    conference_id: str | None = None,
    bridge: str | None = None,
    phone: str | None = None,
    send_email: bool | None = None,
    to: str | None = None,
    allow_weak: bool = False,
) -> ActionResult:
    """Enable a user for audio conferencing: numbers, a conference ID in static mode, a PIN, a welcome mail.

    The sign-in name must end in one of the tenant's domains; a chosen conference ID must not be
    trivially guessable unless `allow_weak`.
    """
    upn = validate_upn(upn)
    email = validate_email(email)
    name = validate_name(name)
    provider = validate_provider(provider)
    country = numbers.validate_country(country) if country else None
    phone_e164 = numbers.parse_e164(phone) if phone else None
    to = validate_email(to, "recipient address") if to else None
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_USERS)
        # before anything is looked up by name: a name outside the tenant's domains is refused in the
        # same words whether or not another tenant holds it
        require_sign_in_domain(upn, t, domains_of(uow, t))
        b = get_bridge(uow, t, bridge)
        user = uow.session.scalars(select(User).where(User.upn == upn)).one_or_none()
        if user is not None and user.tenant_id != t.id:
            # only left by data from before domains (migration 0002): the name is in this tenant's domain
            raise AlreadyExists(f"sign-in name '{upn}' is already in use")
        if user is not None and user.enabled:
            raise AlreadyExists(f"user '{upn}' is already enabled for audio conferencing")
        returning = user is not None
        now = uow.now()
        if user is None:
            user = User(upn=upn, tenant_id=t.id, created_at=now)
            uow.session.add(user)
        user.bridge_id, user.display_name, user.email, user.country = b.id, name, email, country
        user.phone, user.provider, user.enabled, user.updated_at = phone_e164, provider, True, now
        user.toll_free_allowed = True
        user.acp_toll_free_numbers = user.acp_toll_free_numbers or []
        _assign_numbers(uow, b, user, toll_number, toll_free_number)
        uow.session.flush()

        digits: str | None = None
        pin: str | None = None
        if provider == "builtin":
            digits = _initial_conference_id(uow, t, b, user, conference_id, allow_weak=allow_weak)
            pin = generate_pin(uow.rng, t.pin_length, phone_digits=numbers.digits_of(phone_e164 or ""))
            _store_pin(uow, user, pin)
        elif conference_id is not None:
            user.acp_conference_id = parse_third_party_id(conference_id)
        if returning:
            # meetings scheduled before the user was disabled get dial-in again: in dynamic mode each
            # a new own ID now, and a job re-sends them
            if provider == "builtin" and t.conference_id_mode == "dynamic":
                renew_meeting_ids(uow, t, user)
            queue_migration(uow, t, user, reason="user enabled")

        queued = wants_email(t, send_email)
        if queued:
            info = mail_info(uow, t, user, conference_id=digits or user.acp_conference_id, pin=pin)
            queue_mail(uow, t, user, MailKind.WELCOME, info, to=to)
        view = user_view(uow, user)
        audit(
            uow,
            actor,
            "user.enable",
            upn,
            tenant_id=t.id,
            after={
                "provider": provider,
                "bridge": b.name,
                "conference_id": view.conference_id,
                "toll_number": view.toll_number,
                "toll_free_number": view.toll_free_number,
                "pin": "set" if pin else None,
                "email_queued": queued,
            },
        )
        uow.commit()
        return ActionResult(upn=upn, email_queued=queued, message="user enabled", user=view)


def _initial_conference_id(
    uow: UnitOfWork, tenant: Tenant, bridge: Bridge, user: User, chosen: str | None, *, allow_weak: bool
) -> str | None:
    if tenant.conference_id_mode == "dynamic":
        if chosen is not None:
            raise InvalidConferenceId(
                f"tenant '{tenant.name}' uses dynamic conference IDs (one per meeting), so a user has no "
                "personal ID to choose; ask the operator to switch the tenant to static IDs"
            )
        return None
    if chosen is not None:
        digits = ConferenceId.parse(chosen, length=bridge.id_length).digits
        conference_ids.claim(uow, bridge, digits, owner_user_id=user.id, allow_weak=allow_weak)
        return digits
    return conference_ids.allocate(uow, bridge, owner_user_id=user.id).digits


def _store_pin(uow: UnitOfWork, user: User, pin: str) -> None:
    user.pin_hash = hash_pin(uow.pin_key, user.upn, pin)
    user.pin_length = len(pin)
    user.pin_set_at = uow.now()
    user.pin_failures_in_window = 0
    user.pin_window_started = None
    user.pin_total_failures = 0
    user.pin_locked_until = None
    user.pin_locked_for_good = False


def _assign_numbers(
    uow: UnitOfWork, bridge: Bridge, user: User, toll: str | None, toll_free: str | None
) -> None:
    defaults = pick_default_numbers(uow, bridge, user.country)
    toll_row = number_on_bridge(uow, bridge, toll, toll_free=False) if toll else defaults.toll
    free_row = number_on_bridge(uow, bridge, toll_free, toll_free=True) if toll_free else defaults.toll_free
    user.toll_number_id = toll_row.id if toll_row else None
    user.toll_free_number_id = free_row.id if free_row else None


def disable_user(uow: UnitOfWork, *, upn: str, actor: Actor, send_email: bool | None = None) -> ActionResult:
    """Disable a user: the conference ID stops working at once (then sits in quarantine), the PIN goes."""
    with uow:
        user = get_user(uow, upn, actor, Permission.MANAGE_USERS)
        if not user.enabled:
            raise InvalidInput(f"user '{user.upn}' is already disabled")
        t = uow.session.get(Tenant, user.tenant_id)
        assert t is not None
        previous = _release_static_id(uow, t, user)
        release_upcoming_meeting_ids(uow, t, user)
        user.enabled = False
        user.pin_hash = None
        user.updated_at = uow.now()
        # the job rewrites the dial-in block of the user's upcoming meetings: no dial-in any more
        queue_migration(uow, t, user, reason="user disabled")
        queued = wants_email(t, send_email)
        if queued:
            _queue_dialin_removed(
                uow, t, user, previous, "Your account has been disabled for dial-in audio conferencing."
            )
        audit(
            uow,
            actor,
            "user.disable",
            user.upn,
            tenant_id=t.id,
            before={"enabled": True, "conference_id": previous},
            after={"enabled": False, "conference_id": None},
        )
        view = user_view(uow, user)
        uow.commit()
        return ActionResult(upn=user.upn, email_queued=queued, message="user disabled", user=view)


def _queue_dialin_removed(
    uow: UnitOfWork, tenant: Tenant, user: User, previous: str | None, reason: str
) -> None:
    info = mail_info(uow, tenant, user, conference_id=None, previous_conference_id=previous, reason=reason)
    queue_mail(uow, tenant, user, MailKind.DIALIN_REMOVED, info)


def _release_static_id(uow: UnitOfWork, tenant: Tenant, user: User) -> str | None:
    row = conference_ids.live_static_row(uow, user.id)
    if row is None:
        return None
    digits = row.digits
    conference_ids.release(uow, row, quarantine_days=tenant.id_quarantine_days)
    return digits


def show_user(uow: UnitOfWork, *, upn: str, actor: Actor) -> UserView:
    with uow.read():
        return user_view(uow, get_user(uow, upn, actor))


def list_users(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    search: str | None = None,
    provider: str | None = None,
    limit: int = 100,
    offset: int = 0,
    enabled: bool | None = None,
    after: str | None = None,
    count_cap: int | None = None,
    nearby: int = NEARBY,
) -> Page[UserView]:
    """Users of a tenant, searched by sign-in name, display name, email or conference ID, by sign-in name.

    Two ways to page: `offset` skips that many matching users; `after` (the sign-in name of the last
    user of the previous page) continues right after it through the index, however deep the page
    (keyset paging; `offset` then counts from there). The page also counts the matching users, up to
    `count_cap` of them (counting a million users costs far more than reading a page; by default
    COUNT_CAP, or SEARCH_COUNT_CAP with a search): with more, `total_capped` is set and `total` is
    the cap. With `after` its `offset` is how many match before it (`offset_capped` when more than
    the cap do), so a surface can say "201-300 of 5,000". `count_cap=0` counts nothing beyond the
    page; whether more users follow is known either way (`Page.truncated`). `enabled` keeps only
    enabled (or disabled) users. services/search.py says what a search finds; `nearby` is how many
    users, in sign-in name order, a search with more matches than the cap looks through for its page
    before it sorts every match (docs/search.md).
    """
    if provider is not None:
        validate_provider(provider)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIST_LIMIT}, not {limit}")
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, not {offset}")
    if count_cap is None:
        count_cap = SEARCH_COUNT_CAP if search_needle(search) else COUNT_CAP
    if count_cap < 0:
        raise InvalidInput(f"count_cap must be 0 or more, not {count_cap}")
    with uow.read():
        t = get_tenant(uow, tenant, actor)
        dialect = _dialect(uow)
        query = tenant_users(t.id, search=search, provider=provider, dialect=dialect)
        if enabled is not None:
            query = query.where(User.enabled == enabled)
        key = normalise_upn(after) if after is not None else None
        many = False  # more than count_cap users match the search, known without counting again
        if search_needle(search) and count_cap:
            matches = _all_matches(uow, query, count_cap, key)
            if matches is not None:
                # every match is known from one read: the page, the count and where the page starts
                ids, start = matches
                users = _users_by_id(uow, ids[start + offset : start + offset + limit])
                return Page(items=user_views(uow, users), total=len(ids), offset=start + offset)
            many = True
        before, before_capped = 0, False
        if key is not None:
            if count_cap:
                before, before_capped = _count_upto(uow, query.where(User.upn <= key), count_cap)
            else:
                before_capped = True  # not counted
            query = query.where(User.upn > key)
        # one more than the page: whether more users follow needs no count
        rows = None
        if many:
            # more matches than the cap: the first ones in sign-in name order are likely near
            rows = _first_nearby(uow, t.id, search, provider, enabled, key, limit + 1, offset, nearby)
        if rows is None and 0 < len(search_needle(search)) < TRIGRAM:
            # no index finds a short text's matches: they are sorted by a copy of the sign-in name
            # (PostgreSQL scans in parallel), where a walk in index order would read each user's row
            found = query.with_only_columns(User.id).order_by(User.upn.concat("")).limit(limit + 1)
            rows = _users_by_id(uow, list(uow.session.scalars(found.offset(offset))))
        if rows is None:
            rows = list(uow.session.scalars(query.order_by(User.upn).limit(limit + 1).offset(offset)))
        more, users = len(rows) > limit, rows[:limit]
        seen = offset + len(users)
        if not more and (users or not offset):
            remaining, remaining_capped = seen, False  # the page ends the list: nothing left to count
        elif more and seen >= count_cap:
            remaining, remaining_capped = seen, True  # past the cap already
        elif many and more and key is None:
            remaining, remaining_capped = count_cap, True
        else:
            # at least to the end of the page, so that a count past the last match is exact
            remaining, remaining_capped = _count_upto(uow, query, max(count_cap, seen))
        return Page(
            items=user_views(uow, users),
            total=before + remaining,
            offset=before + offset,
            total_capped=before_capped or remaining_capped,
            offset_capped=before_capped,
            more_after=more,
        )


def _all_matches(
    uow: UnitOfWork, query: Select[Any], cap: int, key: str | None
) -> tuple[list[int], int] | None:
    """The ids of every user `query` finds, by sign-in name, and how many of them come at or before
    `key`; None when more than `cap` match. One read of the matching rows, where a page and its count
    would read them twice; the database sorts and compares (its collation decides the order).
    """
    found = query.with_only_columns(User.id, User.upn).limit(cap + 1).subquery()
    at_or_before = found.c.upn <= key if key is not None else literal(False)
    rows = uow.session.execute(select(found.c.id, at_or_before).order_by(found.c.upn)).all()
    if len(rows) > cap:
        return None
    return [row[0] for row in rows], sum(1 for row in rows if row[1])


def _first_nearby(
    uow: UnitOfWork,
    tenant_id: int,
    search: str | None,
    provider: str | None,
    enabled: bool | None,
    key: str | None,
    count: int,
    offset: int,
    nearby: int,
) -> list[User] | None:
    """The first `count` matches after `offset`, looked for among the next `nearby` users of the tenant
    in sign-in name order; None when fewer match there.

    A search that matches many users finds its first page within a few thousand of them, where
    sorting every match reads them all; a search whose matches lie further on gets None and sorts.
    The walk compares the names in the index (tenant_id, upn, display_name, email) without reading
    the rows (migration 0007), then reads the page's users.
    """
    walk = select(User.upn).where(User.tenant_id == tenant_id)
    if key is not None:
        walk = walk.where(User.upn > key)
    bound = uow.session.scalar(walk.order_by(User.upn).offset(max(nearby, 1) - 1).limit(1))
    query = tenant_users(tenant_id, search=search, provider=provider, dialect=_dialect(uow), in_order=True)
    if enabled is not None:
        query = query.where(User.enabled == enabled)
    if key is not None:
        query = query.where(User.upn > key)
    if bound is not None:
        query = query.where(User.upn <= bound)
    ids = list(
        uow.session.scalars(query.with_only_columns(User.id).order_by(User.upn).limit(count).offset(offset))
    )
    # without a bound the walk reached the last user: what it found is all there is
    if len(ids) < count and bound is not None:
        return None
    return _users_by_id(uow, ids)


def _users_by_id(uow: UnitOfWork, ids: list[int]) -> list[User]:
    if not ids:
        return []
    return list(uow.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.upn)))


def _count_upto(uow: UnitOfWork, query: Select[Any], cap: int) -> tuple[int, bool]:
    """How many rows `query` finds, reading at most cap + 1 of them: (cap, True) when there are more."""
    # without a search SQLite counts index entries only: (tenant_id), or (tenant_id, upn) after a key
    counted = query.with_only_columns(User.upn).limit(cap + 1).subquery()
    found = uow.session.scalar(select(func.count()).select_from(counted)) or 0
    return (cap, True) if found > cap else (found, False)


def _dialect(uow: UnitOfWork) -> str:
    return uow.session.get_bind().dialect.name


def iter_users(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    search: str | None = None,
    provider: str | None = None,
    offset: int = 0,
    after: str | None = None,
    batch: int = 500,
    walk_over: int = SEARCH_COUNT_CAP,
) -> Iterator[list[UserView]]:
    """Every user list_users would match, in batches by sign-in name: the whole list, never all in memory.

    `after` and `offset` say where to start, as for list_users. A search with more than `walk_over`
    matches, or of fewer than 3 characters, walks the tenant's users in sign-in name order, a batch
    at a time.
    """
    if provider is not None:
        validate_provider(provider)
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, not {offset}")
    last = normalise_upn(after) if after is not None else None
    skip = offset
    many: bool | None = None
    while True:
        # one short read per batch, continuing after the last sign-in name seen (keyset paging)
        with uow.read():
            t = get_tenant(uow, tenant, actor)
            dialect = _dialect(uow)
            if many is None:
                # a search with many matches walks the names index in order, a batch at a time: sorting
                # its matches for every batch would read them all again each time; so does a text no
                # index narrows (shorter than a trigram), rather than read each user's row on the way
                needle = search_needle(search)
                indexed = tenant_users(t.id, search=search, provider=provider, dialect=dialect)
                many = bool(needle) and (len(needle) < TRIGRAM or _count_upto(uow, indexed, walk_over)[1])
            query = tenant_users(t.id, search=search, provider=provider, dialect=dialect, in_order=many)
            if last is not None:
                query = query.where(User.upn > last)
            if many:
                # through the index alone (tenant_id, upn, display_name, email), then the batch's rows
                found = query.with_only_columns(User.id).order_by(User.upn).limit(batch).offset(skip)
                users = _users_by_id(uow, list(uow.session.scalars(found)))
            else:
                users = list(uow.session.scalars(query.order_by(User.upn).limit(batch).offset(skip)))
            views = user_views(uow, users)
        skip = 0
        if not views:
            return
        yield views
        if len(views) < batch:
            return
        last = views[-1].upn


def filter_users(
    query: Any,
    *,
    search: str | None,
    provider: str | None,
    dialect: str | None = None,
) -> Any:
    """`query` on users narrowed to a search (services/search.py) and a provider, for the bulk jobs.

    Give the database's `dialect` name so that SQLite answers through its search table; without it
    the condition is the portable one (PostgreSQL's indexes serve both). Lists of one tenant use
    `search.tenant_users`, which also keeps SQLite's plan on the search indexes.
    """
    condition = search_condition(search, dialect=dialect)
    if condition is not None:
        query = query.where(condition)
    if provider:
        query = query.where(User.provider == provider)
    return query


def set_default_number(
    uow: UnitOfWork,
    *,
    upn: str,
    actor: Actor,
    toll: str | None = None,
    toll_free: str | None = None,
    send_email: bool | None = None,
) -> ActionResult:
    """Change the numbers printed in a user's invitations; both must be on the user's bridge."""
    if toll is None and toll_free is None:
        raise InvalidInput("give --toll, --toll-free or both")
    with uow:
        user = get_user(uow, upn, actor, Permission.MANAGE_USERS)
        if user.provider != "builtin":
            raise NotAllowedForProvider(
                f"user '{user.upn}' uses a third-party audio conferencing provider; "
                "change its numbers with dialconf user set-acp"
            )
        t = uow.session.get(Tenant, user.tenant_id)
        b = uow.session.get(Bridge, user.bridge_id)
        assert t is not None and b is not None
        before = user_view(uow, user)
        if toll is not None:
            user.toll_number_id = number_on_bridge(uow, b, toll, toll_free=False).id
        if toll_free is not None:
            user.toll_free_number_id = number_on_bridge(uow, b, toll_free, toll_free=True).id
        user.updated_at = uow.now()
        uow.session.flush()
        after = user_view(uow, user)
        changed = (before.toll_number, before.toll_free_number) != (after.toll_number, after.toll_free_number)
        if changed:
            queue_migration(uow, t, user, reason="default numbers changed")
        queued = changed and wants_email(t, send_email)
        if queued:
            info = mail_info(uow, t, user, conference_id=after.conference_id)
            queue_mail(uow, t, user, MailKind.DEFAULT_NUMBER_CHANGED, info)
        audit(
            uow,
            actor,
            "user.default_numbers",
            user.upn,
            tenant_id=t.id,
            before={"toll_number": before.toll_number, "toll_free_number": before.toll_free_number},
            after={"toll_number": after.toll_number, "toll_free_number": after.toll_free_number},
        )
        uow.commit()
        message = "default numbers changed" if changed else "default numbers were already set so"
        return ActionResult(upn=user.upn, email_queued=queued, message=message, user=after)


def set_acp(
    uow: UnitOfWork,
    *,
    upn: str,
    actor: Actor,
    provider_name: str,
    toll_number: str,
    participant_passcode: str,
    toll_free_numbers: list[str] | None = None,
    url: str | None = None,
    domain: str | None = None,
    send_email: bool | None = None,
) -> ActionResult:
    """Move a user to a third-party audio conferencing provider (or update its settings)."""
    if not (provider_name or "").strip():
        raise InvalidInput("provider name must not be empty")
    toll = numbers.parse_e164(toll_number)
    frees = [numbers.parse_e164(n) for n in (toll_free_numbers or [])]
    passcode = (participant_passcode or "").strip()
    if not passcode.isdigit() or not 4 <= len(passcode) <= 20:
        raise InvalidInput("participant passcode must be 4 to 20 digits")
    if url is not None and not url.startswith(("https://", "http://")):
        raise InvalidInput(f"'{url}' is not a web address (http:// or https://)")
    with uow:
        user = get_user(uow, upn, actor, Permission.MANAGE_USERS)
        if not user.enabled:
            raise InvalidInput(f"user '{user.upn}' is disabled; enable it first")
        t = uow.session.get(Tenant, user.tenant_id)
        assert t is not None
        was = user.provider
        previous = None
        if was == "builtin":
            previous = _release_static_id(uow, t, user)
            release_upcoming_meeting_ids(uow, t, user)  # dialconf no longer answers those calls
        user.provider = "third-party"
        user.pin_hash = None
        user.acp_provider_name, user.acp_toll_number, user.acp_toll_free_numbers = (
            provider_name.strip(),
            toll,
            frees,
        )
        user.acp_participant_passcode, user.acp_url = passcode, url
        user.acp_domain = domain.strip() if domain else None
        user.updated_at = uow.now()
        # the provider's numbers, ID and passcode replace dialconf's (or changed) in the user's invitations
        queue_migration(
            uow, t, user, reason="provider changed" if was == "builtin" else "provider settings changed"
        )
        queued = was == "builtin" and wants_email(t, send_email)
        if queued:
            _queue_dialin_removed(
                uow,
                t,
                user,
                previous,
                f"Your meetings now use {provider_name.strip()} for audio conferencing instead of "
                f"{t.email_from_name or t.name}'s own dial-in numbers.",
            )
        audit(
            uow,
            actor,
            "user.set_acp",
            user.upn,
            tenant_id=t.id,
            before={"provider": was, "conference_id": previous},
            after={"provider": "third-party", "provider_name": provider_name.strip(), "toll_number": toll},
        )
        view = user_view(uow, user)
        uow.commit()
        return ActionResult(upn=user.upn, email_queued=queued, message="third-party provider set", user=view)


def apply_mode_change(uow: UnitOfWork, tenant: Tenant, actor: Actor) -> int:
    """After the ID mode changed: static gives each enabled builtin user an ID, dynamic releases them."""
    users = list(
        uow.session.scalars(
            select(User).where(User.tenant_id == tenant.id, User.enabled, User.provider == "builtin")
        )
    )
    bridges: dict[int, Bridge] = {}
    for user in users:
        if tenant.conference_id_mode == "static":
            bridge = bridges.get(user.bridge_id) or uow.session.get(Bridge, user.bridge_id)
            assert bridge is not None
            bridges[bridge.id] = bridge
            if conference_ids.live_static_row(uow, user.id) is None:
                conference_ids.allocate(uow, bridge, owner_user_id=user.id)
        else:
            _release_static_id(uow, tenant, user)
            # the meetings scheduled on that ID get their own, as if scheduled in dynamic mode now,
            # and a migration job re-sends their invitations
            if renew_meeting_ids(uow, tenant, user, keep_own=True):
                queue_migration(uow, tenant, user, reason="conference ID mode changed")
        if tenant.auto_email:
            digits = None
            if tenant.conference_id_mode == "static":
                row = conference_ids.live_static_row(uow, user.id)
                digits = row.digits if row else None
            queue_mail(
                uow,
                tenant,
                user,
                MailKind.CONFERENCE_ID_CHANGED,
                mail_info(uow, tenant, user, conference_id=digits),
            )
    return len(users)
