"""dialconf user ..."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from dialconf.cli.common import EMAIL, JSON, TO, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import (
    confirm,
    emit_json,
    emit_json_stream,
    progress_bar,
    say,
    show_batches,
    show_list,
    show_record,
    show_table,
)
from dialconf.errors import InvalidInput
from dialconf.services.views import ActionResult, BulkPlan, PinResetResult, ResetResult, UserView

NAME = "user"
HELP = "Users enabled for audio conferencing: conference IDs, PINs, numbers and providers."
app = App(help=HELP)
TENANT = Option(..., "--tenant", "-t", metavar="T", help="Tenant name.")
T = TypeVar("T")
ALLOW_WEAK = Option(
    False,
    "--allow-weak",
    help="Accept a trivially guessable chosen ID (one digit repeated, a straight run such as 1234567).",
)


def _show_user(view: UserView) -> None:
    rows: list[tuple[str, object]] = [
        ("tenant", view.tenant),
        ("display name", view.display_name),
        ("email", view.email),
        ("enabled", view.enabled),
        ("provider", view.provider),
        ("bridge", view.bridge),
        ("usage country", view.country),
        ("conference ID", view.conference_id_display),
        ("default toll number", view.toll_number),
        ("toll-free number", view.toll_free_number if view.toll_free_allowed else "not allowed"),
        ("PIN", ("set (locked)" if view.pin_locked else "set") if view.pin_set else "not set"),
    ]
    if view.third_party:
        tp = view.third_party
        rows += [
            ("provider name", tp["provider_name"]),
            ("provider toll number", tp["toll_number"]),
            ("provider toll-free", tp["toll_free_numbers"]),
            ("participant passcode", tp["participant_passcode"]),
            ("provider URL", tp["url"]),
        ]
    show_record(f"User {view.upn}", rows)


def _action(result: ActionResult, as_json: bool) -> None:
    if as_json:
        emit_json(result.user_dict())
        return
    say(f"{result.upn}: {result.message}" + (" (email queued)" if result.email_queued else ""))
    if result.user:
        _show_user(result.user)


@app.command("enable")
def enable(
    ctx: Context,
    upn: str,
    tenant: str = TENANT,
    email: str = Option(..., "--email", metavar="ADDR", help="Primary email address."),
    name: str = Option(..., "--name", metavar="TEXT", help="Display name."),
    country: str | None = Option(None, "--country", metavar="CC", help="Usage country, e.g. US."),
    provider: str = Option(
        "builtin",
        "--provider",
        metavar="builtin|third-party",
        help="Who hosts the user's meetings: dialconf itself, or a third-party provider (then see set-acp).",
    ),
    toll_number: str | None = Option(
        None,
        "--toll-number",
        metavar="+E164",
        help="Default toll number in the user's invitations (default: the bridge default).",
    ),
    toll_free_number: str | None = Option(
        None,
        "--toll-free-number",
        metavar="+E164",
        help="Toll-free number in the user's invitations (default: none).",
    ),
    conference_id: str | None = Option(
        None,
        "--conference-id",
        metavar="DIGITS",
        help="A chosen ID (static mode) or the third-party provider's ID.",
    ),
    bridge: str | None = Option(None, "--bridge", help="Bridge name (default: the tenant's first bridge)."),
    phone: str | None = Option(
        None, "--phone", metavar="+E164", help="The user's own phone (kept out of PINs)."
    ),
    no_email: bool = Option(False, "--no-email", help="Do not send the welcome email."),
    force_email: bool = Option(
        False, "--send-email", help="Send the welcome email even when the tenant's auto_email is off."
    ),
    to: str | None = TO,
    allow_weak: bool = ALLOW_WEAK,
    as_json: bool = JSON,
) -> None:
    """Enable a user for audio conferencing and send the welcome email (with ID, numbers and PIN).

    --email ADDR is the user's address; --no-email skips the welcome email, and --send-email (or a
    bare --email with no address after it) sends it even when the tenant's auto_email is off.
    """
    from dialconf.services import users

    if no_email and force_email:
        raise InvalidInput("--no-email and --send-email contradict each other")
    send_email = False if no_email else (True if force_email else None)
    rt = runtime(ctx)
    result = users.enable_user(
        rt.uow(),
        tenant=tenant,
        upn=upn,
        email=email,
        name=name,
        actor=rt.actor,
        country=country,
        provider=provider,
        toll_number=toll_number,
        toll_free_number=toll_free_number,
        conference_id=conference_id,
        bridge=bridge,
        phone=phone,
        send_email=send_email,
        to=to,
        allow_weak=allow_weak,
    )
    _action(result, as_json)


@app.command("disable")
def disable(ctx: Context, upn: str, send_email: bool | None = EMAIL, as_json: bool = JSON) -> None:
    """Disable a user: the conference ID and PIN stop working at once."""
    from dialconf.services import users

    rt = runtime(ctx)
    _action(users.disable_user(rt.uow(), upn=upn, actor=rt.actor, send_email=send_email), as_json)


@app.command("show")
def show(ctx: Context, upn: str, as_json: bool = JSON) -> None:
    """Show a user, with the conference ID (never the PIN)."""
    from dialconf.services import users

    rt = runtime(ctx)
    view = users.show_user(rt.uow(), upn=upn, actor=rt.actor)
    emit_json(view) if as_json else _show_user(view)


@app.command("list")
def list_(
    ctx: Context,
    tenant: str = TENANT,
    search: str | None = Option(
        None, "--search", metavar="TEXT", help="Part of the UPN, name or email, or a conference ID ('123 456 7#')."
    ),
    provider: str | None = Option(
        None, "--provider", metavar="builtin|third-party", help="Only users of this provider."
    ),
    limit: int = Option(100, "--limit", metavar="N", help="At most N users (1-1000)."),
    offset: int = Option(0, "--offset", metavar="N", help="Skip the first N users."),
    after: str | None = Option(
        None, "--after", metavar="UPN", help="Start after this sign-in name (the last one of the previous page)."
    ),
    all_: bool = Option(False, "--all", help="Every matching user, printed as they are read (no --limit)."),
    as_json: bool = JSON,
) -> None:
    """List a tenant's users, sorted by sign-in name; says on stderr when more match than are shown."""
    from dialconf.services import users

    rt = runtime(ctx)
    uow, actor = rt.uow(), rt.actor
    show_list(
        users.iter_users(
            uow, tenant=tenant, actor=actor, search=search, provider=provider, offset=offset, after=after
        )
        if all_
        else users.list_users(
            uow,
            tenant=tenant,
            actor=actor,
            search=search,
            provider=provider,
            limit=limit,
            offset=offset,
            after=after,
        ),
        as_json=as_json,
        columns=["upn", "name", "provider", "enabled", "conference ID", "toll number", "PIN"],
        row=lambda v: [
            v.upn,
            v.display_name,
            v.provider,
            v.enabled,
            # the ID itself, or the first words of why there is none ("Dynamic — one per meeting")
            v.conference_id_display
            if v.conference_id
            else v.conference_id_display.split(" (")[0].split(" —")[0],
            v.toll_number,
            "set" if v.pin_set else "-",
        ],
        empty="no users match",
        whole={"upn", "conference ID"},
        options="--limit, --after or --all" if after else "--limit, --offset or --all" if offset else "--limit or --all",
    )


@app.command("reset-conference-id")
def reset_conference_id(
    ctx: Context, upn: str, send_email: bool | None = EMAIL, to: str | None = TO, as_json: bool = JSON
) -> None:
    """Give the user a new random conference ID; the old one stops working for callers at once."""
    from dialconf.services import resets

    rt = runtime(ctx)
    result = resets.reset_conference_id(rt.uow(), upn=upn, actor=rt.actor, send_email=send_email, to=to)
    if as_json:
        emit_json(result)
    elif result.conference_id:
        say(
            f"{result.upn}: new conference ID {result.conference_id} (was {result.previous_conference_id or 'none'})"
            + ("; email queued" if result.email_queued else "; no email sent")
        )
    else:
        say(f"{result.upn}: {result.message}")


@app.command("set-conference-id")
def set_conference_id(
    ctx: Context,
    upn: str,
    digits: str = Argument(..., metavar="DIGITS"),
    send_email: bool | None = EMAIL,
    allow_weak: bool = ALLOW_WEAK,
    as_json: bool = JSON,
) -> None:
    """Set a chosen conference ID (static mode), or type in a third-party provider's ID."""
    from dialconf.services import resets

    rt = runtime(ctx)
    result = resets.set_conference_id(
        rt.uow(), upn=upn, digits=digits, actor=rt.actor, send_email=send_email, allow_weak=allow_weak
    )
    if as_json:
        emit_json(result)
    else:
        say(
            f"{result.upn}: conference ID is now {result.conference_id} (was {result.previous_conference_id or 'none'})"
            + ("; email queued" if result.email_queued else "")
        )


@app.command("set-acp")
def set_acp(
    ctx: Context,
    upn: str,
    provider_name: str = Option(..., "--provider-name", metavar="TEXT", help="The provider's name."),
    toll_number: str = Option(..., "--toll-number", metavar="+E164", help="The provider's toll number."),
    toll_free_number: list[str] = Option(
        [], "--toll-free-number", metavar="+E164", help="A toll-free number of the provider; repeat for more."
    ),
    participant_passcode: str = Option(
        ..., "--participant-passcode", metavar="DIGITS", help="The passcode participants type (4-20 digits)."
    ),
    url: str | None = Option(
        None, "--url", metavar="URL", help="The provider's web page for the user's meetings."
    ),
    domain: str | None = Option(None, "--domain", metavar="TEXT", help="The provider's domain."),
    send_email: bool | None = EMAIL,
    as_json: bool = JSON,
) -> None:
    """Use a third-party audio conferencing provider (ACP) for this user."""
    from dialconf.services import users

    rt = runtime(ctx)
    result = users.set_acp(
        rt.uow(),
        upn=upn,
        actor=rt.actor,
        provider_name=provider_name,
        toll_number=toll_number,
        toll_free_numbers=toll_free_number,
        participant_passcode=participant_passcode,
        url=url,
        domain=domain,
        send_email=send_email,
    )
    _action(result, as_json)


@app.command("reset-pin")
def reset_pin(
    ctx: Context, upn: str, send_email: bool | None = EMAIL, to: str | None = TO, as_json: bool = JSON
) -> None:
    """Generate a new leader PIN. It is shown here once, and also emailed to the user when email is on."""
    from dialconf.services import resets

    rt = runtime(ctx)
    result = resets.reset_pin(rt.uow(), upn=upn, actor=rt.actor, send_email=send_email, to=to)
    if as_json:
        emit_json(result)
    else:
        say(
            f"{result.upn}: new PIN {result.pin} (shown only now)"
            + ("; email queued" if result.email_queued else "; no email sent")
        )


@app.command("send-info")
def send_info(ctx: Context, upn: str, to: str | None = TO, as_json: bool = JSON) -> None:
    """Email the conference ID and dial-in numbers to the user. Never includes the PIN."""
    from dialconf.services import resets

    rt = runtime(ctx)
    result = resets.send_info(rt.uow(), upn=upn, actor=rt.actor, to=to)
    emit_json(result) if as_json else say(f"{result.upn}: {result.message}")


@app.command("set-default-number")
def set_default_number(
    ctx: Context,
    upn: str,
    toll: str | None = Option(None, "--toll", metavar="+E164", help="The new default toll number."),
    toll_free: str | None = Option(None, "--toll-free", metavar="+E164", help="The new toll-free number."),
    send_email: bool | None = EMAIL,
    as_json: bool = JSON,
) -> None:
    """Change the numbers printed in the user's invitations (they must be on the user's bridge)."""
    from dialconf.services import users

    rt = runtime(ctx)
    result = users.set_default_number(
        rt.uow(), upn=upn, actor=rt.actor, toll=toll, toll_free=toll_free, send_email=send_email
    )
    _action(result, as_json)


@app.command("import")
def import_(
    ctx: Context,
    file: Path = Argument(
        ...,
        metavar="FILE.csv",
        help="A UTF-8 CSV file with a header row, or - for stdin. Columns: upn, email, name (required); "
        "country, provider, toll_number, toll_free_number, conference_id (optional).",
    ),
    tenant: str = TENANT,
    dry_run: bool = Option(False, "--dry-run", help="Only check the file; change nothing."),
    bridge: str | None = Option(
        None, "--bridge", help="Bridge of the imported users (default: the tenant's first bridge)."
    ),
    send_email: bool | None = EMAIL,
    allow_weak: bool = Option(
        False, "--allow-weak", help="Accept trivially guessable chosen IDs anywhere in the file."
    ),
    as_json: bool = JSON,
) -> None:
    """Enable users from a CSV file: all rows or none; every bad row is reported with its line number."""
    from dialconf.services import importing

    rt = runtime(ctx)
    with _csv_lines(file) as lines:
        rows = importing.read_csv(lines, name=str(file) if str(file) != "-" else "stdin")
        with progress_bar("importing", not as_json and not dry_run) as progress:
            report = importing.import_users(
                rt.uow(),
                tenant=tenant,
                rows=rows,
                actor=rt.actor,
                dry_run=dry_run,
                bridge=bridge,
                send_email=send_email,
                progress=progress,
                allow_weak=allow_weak,
            )
    if as_json:
        emit_json(report)
    elif dry_run:
        say(f"{report.rows} rows checked; all good (dry run: nothing imported)")
    else:
        say(f"imported {report.imported} users into {report.tenant}; {report.emails_queued} emails queued")


@contextmanager
def _csv_lines(file: Path) -> Iterator[Iterator[str]]:
    """The lines of the file (or stdin for '-'), read as the import consumes them."""
    if str(file) == "-":
        yield _decoded(sys.stdin, "stdin")
        return
    try:
        # newline="": the CSV reader itself handles line ends, also inside quoted fields
        handle = file.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc
    with handle:
        yield _decoded(handle, str(file))


def _decoded(handle: TextIO, name: str) -> Iterator[str]:
    try:
        yield from handle
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} is not UTF-8 text") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {name}: {exc.strerror}") from exc


def _write_private(file: Path, text: str) -> None:
    """Write `text` to `file`, readable by its owner only (mode 600): an export lists people and emails."""
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {file}: {exc.strerror}") from exc
    # the mode given to open applies only to a new file: an existing one is narrowed as well
    os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)


@app.command("export")
def export(
    ctx: Context,
    tenant: str = TENANT,
    file: Path | None = Argument(None, metavar="[FILE.csv]", help="Write here (default: stdout)."),
    as_json: bool = Option(
        False,
        "--json",
        help="Print the users as a JSON array (the CSV columns as keys); with FILE, print {path, rows}.",
    ),
) -> None:
    """Export a tenant's users as CSV (the import format); a file is readable by its owner only.

    Cells a spreadsheet would run (=, +, -, @, tab, CR; E.164 numbers too) get a leading ' that import drops.
    """
    from dialconf.services import importing

    rt = runtime(ctx)
    if as_json and file is None:
        rows = importing.export_rows(rt.uow(), tenant=tenant, actor=rt.actor)
        emit_json_stream(
            {name: cell or None for name, cell in zip(importing.COLUMNS, cells, strict=True)}
            for cells in rows
        )
        return
    text = importing.export_users(rt.uow(), tenant=tenant, actor=rt.actor)
    if file is None:
        sys.stdout.write(text)
        return
    _write_private(file, text)
    count = text.count(chr(10)) - 1
    if as_json:
        emit_json({"path": str(file), "rows": count})
    else:
        print(f"wrote {count} users to {file}", file=sys.stderr)


SEARCH = Option(None, "--search", metavar="TEXT", help="Only users matching this text.")
DRY_RUN = Option(False, "--dry-run", help="Only list the users that would be reset; change nothing.")
YES = Option(False, "--yes", "-y", help="Do not ask for confirmation (needed when stdin is not a terminal).")


def _bulk_summary(tenant: str, results: Sequence[ResetResult | PinResetResult]) -> dict[str, object]:

    return {
        "tenant": tenant,
        "reset": len(results),
        "emails_queued": sum(r.email_queued for r in results),
        "users": [r.to_dict() for r in results],
    }


def _bulk_plan(plan: BulkPlan, as_json: bool) -> None:
    """A dry run's output: who would be reset (and emailed)."""
    if as_json:
        emit_json(plan)
        return
    current = plan.action == "conference_id" and plan.mode == "static"
    show_table(
        ["upn", "email", "conference ID now"] if current else ["upn", "email"],
        [[t.upn, t.email, t.conference_id] if current else [t.upn, t.email] for t in plan.users],
        empty="no users match: nothing would be reset",
        whole={"upn", "email", "conference ID now"},
    )
    what = "conference IDs" if plan.action == "conference_id" else "PINs"
    mailed = "and email them" if plan.email else "without email"
    say(f"dry run: would reset the {what} of {_users(plan.count)} in {plan.tenant} {mailed}; nothing changed")


def _users(count: int) -> str:
    return f"{count:,} user" + ("" if count == 1 else "s")


def _mails(summary: dict[str, object]) -> str:
    count = summary["emails_queued"]
    assert isinstance(count, int)
    return f"{count:,} email" + ("" if count == 1 else "s")


def _confirmed(plan: BulkPlan, yes: bool) -> bool:
    """Whether to go on with a bulk reset: --yes, or a 'y' typed on a terminal; refused on a pipe."""
    if yes or plan.count == 0:
        return True
    if not sys.stdin.isatty():
        raise InvalidInput(f"refusing to reset {_users(plan.count)} without confirmation; add --yes")
    what = "conference IDs" if plan.action == "conference_id" else "PINs"
    mailed = " and email them" if plan.email else " (no email will be sent)"
    return confirm(f"Reset the {what} of {_users(plan.count)} in {plan.tenant}{mailed}?")


@app.command("bulk-reset-conference-id")
def bulk_reset(
    ctx: Context,
    tenant: str = TENANT,
    search: str | None = SEARCH,
    send_email: bool | None = EMAIL,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON,
) -> None:
    """Reset the conference IDs of all (or the matching) builtin users of a tenant.

    Asks first on a terminal (--yes skips the question; without a terminal --yes is required).
    """
    from dialconf.services import resets

    rt = runtime(ctx)
    plan = resets.plan_bulk_reset(
        rt.uow(), tenant=tenant, actor=rt.actor, action="conference_id", search=search, send_email=send_email
    )
    if dry_run:
        _bulk_plan(plan, as_json)
        return
    if not _confirmed(plan, yes):
        raise InvalidInput("nothing was reset")
    with progress_bar("resetting", not as_json) as progress:
        results = resets.bulk_reset_conference_ids(
            rt.uow(),
            tenant=tenant,
            actor=rt.actor,
            search=search,
            send_email=send_email,
            progress=progress,
            plan=plan,
        )
    summary = _bulk_summary(tenant, results)
    if as_json:
        emit_json(summary)
        return
    show_batches(
        ["upn", "new conference ID", "was", "emailed"],
        (
            [
                [r.upn, r.conference_id or "one per meeting", r.previous_conference_id, r.email_queued]
                for r in chunk
            ]
            for chunk in _chunks(results)
        ),
        empty="no users match: nothing was reset",
        whole={"upn", "new conference ID", "was"},
    )
    if results:
        say(f"reset the conference IDs of {_users(len(results))}; {_mails(summary)} queued")


@app.command("bulk-reset-pin")
def bulk_reset_pin(
    ctx: Context,
    tenant: str = TENANT,
    search: str | None = SEARCH,
    send_email: bool | None = EMAIL,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON,
) -> None:
    """Give all (or the matching) builtin users of a tenant a new PIN; prints each PIN once.

    Asks first on a terminal (--yes skips the question; without a terminal --yes is required).
    """
    from dialconf.services import bulk_pins, resets

    rt = runtime(ctx)
    plan = resets.plan_bulk_reset(
        rt.uow(), tenant=tenant, actor=rt.actor, action="pin", search=search, send_email=send_email
    )
    if dry_run:
        _bulk_plan(plan, as_json)
        return
    if not _confirmed(plan, yes):
        raise InvalidInput("nothing was reset")
    with progress_bar("resetting PINs", not as_json) as progress:
        results = bulk_pins.bulk_reset_pins(
            rt.uow(),
            tenant=tenant,
            actor=rt.actor,
            search=search,
            send_email=send_email,
            progress=progress,
            plan=plan,
        )
    summary = _bulk_summary(tenant, results)
    if as_json:
        emit_json(summary)
        return
    show_batches(
        ["upn", "new PIN (shown only now)", "emailed"],
        ([[r.upn, r.pin, r.email_queued] for r in chunk] for chunk in _chunks(results)),
        empty="no users match: nothing was reset",
        whole={"upn", "new PIN (shown only now)"},
    )
    if results:
        say(f"reset the PINs of {_users(len(results))}; {_mails(summary)} queued")


def _chunks(results: Sequence[T]) -> Iterator[Sequence[T]]:
    """Rows for a table a few hundred at a time: a long table is printed as it is laid out."""
    for start in range(0, len(results), 500):
        yield results[start : start + 500]
