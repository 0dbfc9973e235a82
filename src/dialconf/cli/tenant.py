"""dialconf tenant ..."""

from __future__ import annotations

import sys
from pathlib import Path

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option, UsageError, prompt
from dialconf.cli.output import emit_json, say, show_record, show_table
from dialconf.services.views import TenantView

NAME = "tenant"
HELP = "Create tenants and change their settings."
app = App(help=HELP)


def _show(view: TenantView, as_json: bool) -> None:
    if as_json:
        emit_json(view)
        return
    show_record(
        f"Tenant {view.name}",
        [
            ("domains", view.domains),
            ("conference ID mode", f"{view.conference_id_mode} (only the operator can change it)"),
            ("automatic email", view.auto_email),
            ("PIN length", view.pin_length),
            ("email from", f"{view.email_from_name or ''} <{view.email_from_address or 'not set'}>"),
            ("meeting migration", view.meeting_migration),
            ("ID quarantine (days)", view.id_quarantine_days),
            ("meeting ID grace (days)", view.meeting_id_grace_days),
            (
                "dial-in caller lockout",
                f"after {view.dialin_caller_max_failures} wrong IDs in {view.dialin_caller_window_minutes} min, "
                f"for {view.dialin_caller_lockout_minutes} min",
            ),
            (
                "dial-in bridge limit",
                f"over {view.dialin_bridge_max_failures} wrong IDs an hour, calls wait "
                f"{view.dialin_bridge_delay_seconds} s",
            ),
            ("Jitsi MUC domain", view.jitsi_muc_domain or "-"),
            ("Jitsi rooms the mapper may create", view.jitsi_max_rooms),
            ("CalDAV calendar", _caldav(view)),
            ("bridges", view.bridges),
        ],
    )


def _caldav(view: TenantView) -> str:
    if not view.caldav_connected:
        return "not connected"
    who = f"as {view.caldav_username}" if view.caldav_username else "without sign-in"
    return f"{view.caldav_url} ({who})"


def _caldav_password(from_stdin: bool, file: Path | None) -> str | None:
    """The password from the first line of stdin or of a file, never from the command line."""
    if from_stdin and file is not None:
        raise UsageError("give the CalDAV password with --caldav-password-stdin or --caldav-password-file, not both")
    if from_stdin:
        if sys.stdin.isatty():
            return prompt("CalDAV password", hide_input=True)
        return sys.stdin.readline().rstrip("\r\n")
    if file is not None:
        from dialconf.errors import InvalidInput

        try:
            with file.open(encoding="utf-8") as handle:
                return handle.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise InvalidInput(f"cannot read the CalDAV password file {file}: {reason}") from None
    return None


@app.command("create")
def create(
    ctx: Context,
    name: str = Argument(..., help="Short name of the organisation, such as contoso."),
    domain: list[str] = Option(
        [],
        "--domain",
        metavar="DOMAIN",
        help="A domain of the tenant, such as contoso.com; repeat for more. The first is the primary one.",
    ),
    as_json: bool = JSON,
) -> None:
    """Create a tenant (operator only). IDs are dynamic by default; emails are on.

    Users' sign-in names must end in one of the tenant's domains, and a domain belongs to one tenant.
    """
    from dialconf.services import tenants

    rt = runtime(ctx)
    _show(tenants.create_tenant(rt.uow(), name=name, domains=domain, actor=rt.actor), as_json)


@app.command("add-domain")
def add_domain(ctx: Context, name: str, domain: str, as_json: bool = JSON) -> None:
    """Let the tenant's users sign in with names in one more domain (operator only)."""
    from dialconf.services import tenants

    rt = runtime(ctx)
    _show(tenants.add_domain(rt.uow(), name=name, domain=domain, actor=rt.actor), as_json)


@app.command("remove-domain")
def remove_domain(ctx: Context, name: str, domain: str, as_json: bool = JSON) -> None:
    """Give up a domain that no user or admin account signs in with any more (operator only)."""
    from dialconf.services import tenants

    rt = runtime(ctx)
    _show(tenants.remove_domain(rt.uow(), name=name, domain=domain, actor=rt.actor), as_json)


@app.command("show")
def show(ctx: Context, name: str, as_json: bool = JSON) -> None:
    """Show a tenant and its settings."""
    from dialconf.services import tenants

    rt = runtime(ctx)
    _show(tenants.show_tenant(rt.uow(), name=name, actor=rt.actor), as_json)


@app.command("list")
def list_(ctx: Context, as_json: bool = JSON) -> None:
    """List the tenants you can see."""
    from dialconf.services import tenants

    rt = runtime(ctx)
    views = tenants.list_tenants(rt.uow(), actor=rt.actor)
    if as_json:
        emit_json(views)
        return
    show_table(
        ["name", "domains", "ID mode", "auto email", "PIN length", "bridges"],
        [[v.name, v.domains, v.conference_id_mode, v.auto_email, v.pin_length, v.bridges] for v in views],
        empty="no tenants yet: dialconf tenant create NAME",
        whole={"name"},
    )


@app.command("set")
def set_(
    ctx: Context,
    name: str,
    auto_email: bool | None = Option(
        None, "--auto-email/--no-auto-email", help="Email users on every change."
    ),
    pin_length: int | None = Option(None, "--pin-length", help="Digits in newly generated PINs (4-12)."),
    email_from: str | None = Option(
        None,
        "--email-from",
        metavar="ADDR",
        help="Sender address, in one of the tenant's domains (the operator may choose any).",
    ),
    email_from_name: str | None = Option(None, "--email-from-name", metavar="TEXT", help="Sender name."),
    meeting_migration: bool | None = Option(
        None, "--meeting-migration/--no-meeting-migration", help="Update existing meetings after a change."
    ),
    id_quarantine_days: int | None = Option(
        None,
        "--id-quarantine-days",
        help="Days a released conference ID stays out of use (0-3650; below 7 only the operator).",
    ),
    meeting_id_grace_days: int | None = Option(
        None,
        "--meeting-id-grace-days",
        metavar="N",
        help="Days an ended meeting keeps its own conference ID before it is released (0-365; default 1).",
    ),
    dialin_caller_max_failures: int | None = Option(
        None,
        "--dialin-caller-max-failures",
        metavar="N",
        help="Wrong IDs a caller may enter before the lockout (1-20; default 5).",
    ),
    dialin_caller_window: int | None = Option(
        None,
        "--dialin-caller-window",
        metavar="MIN",
        help="Minutes a caller's wrong IDs are counted over (1-1440; default 15).",
    ),
    dialin_caller_lockout: int | None = Option(
        None,
        "--dialin-caller-lockout",
        metavar="MIN",
        help="Minutes a caller stays locked out (1-10080; default 30).",
    ),
    dialin_bridge_max_failures: int | None = Option(
        None,
        "--dialin-bridge-max-failures",
        metavar="N",
        help="Wrong IDs an hour on a bridge, from all callers, before every call is slowed (default 100).",
    ),
    dialin_bridge_delay: int | None = Option(
        None,
        "--dialin-bridge-delay",
        metavar="SEC",
        help="Seconds every call waits on a slowed bridge (0-30; default 5).",
    ),
    jitsi_muc_domain: str | None = Option(
        None,
        "--jitsi-muc-domain",
        metavar="DOMAIN",
        help="Jitsi Meet MUC domain whose rooms get this tenant's IDs ('' clears it; operator only).",
    ),
    jitsi_max_rooms: int | None = Option(
        None,
        "--jitsi-max-rooms",
        metavar="N",
        help="Rooms the public Jitsi conference mapper may create (0-1000000; default 10000).",
    ),
    caldav_url: str | None = Option(
        None,
        "--caldav-url",
        metavar="URL",
        help="CalDAV calendar whose events a meeting migration also rewrites (http or https; {upn} in the "
        "path stands for the organizer); '' disconnects it.",
    ),
    no_caldav: bool = Option(False, "--no-caldav", help="Disconnect the CalDAV calendar (as --caldav-url '')."),
    caldav_username: str | None = Option(
        None, "--caldav-username", metavar="USER", help="User name for the CalDAV server ('' for none)."
    ),
    caldav_password_stdin: bool = Option(
        False, "--caldav-password-stdin", help="Read the CalDAV password from the first line of stdin."
    ),
    caldav_password_file: Path | None = Option(
        None, "--caldav-password-file", metavar="PATH", help="Read the CalDAV password from the first line of PATH."
    ),
    as_json: bool = JSON,
) -> None:
    """Change tenant settings (admin or operator). The ID mode is set with set-id-mode.

    The CalDAV password is never shown, logged or audited, and is stored sealed with the secret key.
    """
    from dialconf.services import tenants

    if no_caldav and caldav_url:
        raise UsageError("--no-caldav and --caldav-url URL contradict each other")
    password = _caldav_password(caldav_password_stdin, caldav_password_file)
    rt = runtime(ctx)
    view = tenants.update_settings(
        rt.uow(),
        name=name,
        actor=rt.actor,
        auto_email=auto_email,
        pin_length=pin_length,
        email_from_address=email_from,
        email_from_name=email_from_name,
        meeting_migration=meeting_migration,
        id_quarantine_days=id_quarantine_days,
        meeting_id_grace_days=meeting_id_grace_days,
        dialin_limits={
            key: value
            for key, value in {
                "dialin_caller_max_failures": dialin_caller_max_failures,
                "dialin_caller_window_minutes": dialin_caller_window,
                "dialin_caller_lockout_minutes": dialin_caller_lockout,
                "dialin_bridge_max_failures": dialin_bridge_max_failures,
                "dialin_bridge_delay_seconds": dialin_bridge_delay,
                "jitsi_max_rooms": jitsi_max_rooms,
            }.items()
            if value is not None
        },
        jitsi_muc_domain=jitsi_muc_domain,
        caldav_url="" if no_caldav else caldav_url,
        caldav_username=caldav_username,
        caldav_password=password,
    )
    _show(view, as_json)


@app.command("set-id-mode")
def set_id_mode(
    ctx: Context,
    name: str,
    mode: str = Argument(..., metavar="static|dynamic"),
    as_json: bool = JSON,
) -> None:
    """Switch between static (one ID per user) and dynamic (one ID per meeting) IDs. Operator only."""
    from dialconf.services import tenants

    rt = runtime(ctx)
    _show(tenants.set_id_mode(rt.uow(), name=name, mode=mode, actor=rt.actor), as_json)


@app.command("jitsi-rooms")
def jitsi_rooms(
    ctx: Context,
    name: str,
    limit: int = Option(1000, "--limit", metavar="N", help="Show at most N rooms, newest first (1-10000)."),
    as_json: bool = JSON,
) -> None:
    """List the Jitsi rooms the conference mapper gave an ID, newest first; each counts against --jitsi-max-rooms."""
    from dialconf.services import jitsi

    rt = runtime(ctx)
    rooms = jitsi.list_rooms(rt.uow(), tenant=name, actor=rt.actor, limit=limit)
    if as_json:
        emit_json(rooms)
        return
    show_table(
        ["room", "conference ID", "live", "mapped"],
        [[r.room, r.conference_id, r.live, r.created_at] for r in rooms],
        empty="no Jitsi rooms mapped",
        whole={"room"},
    )


@app.command("jitsi-unmap")
def jitsi_unmap(
    ctx: Context,
    name: str,
    room: list[str] = Option([], "--room", metavar="ROOM@MUC", help="A room to forget; repeat for more."),
    created_since: str | None = Option(
        None, "--created-since", metavar="ISO", help="Forget every room mapped at or after this UTC time."
    ),
    as_json: bool = JSON,
) -> None:
    """Forget mapped Jitsi rooms: their IDs are released (quarantined) and their places under the cap freed.

    A room Jitsi asks for again gets a new conference ID. For a cap filled by someone calling the
    public mapper: `--created-since` the time it began (see `jitsi.rooms.full` in the audit log).
    """
    from dialconf.services import jitsi

    since = jitsi.parse_since(created_since) if created_since is not None else None
    rt = runtime(ctx)
    forgotten = jitsi.unmap_rooms(rt.uow(), tenant=name, actor=rt.actor, rooms=room, created_since=since)
    if as_json:
        emit_json({"unmapped": forgotten})
    else:
        say(f"{len(forgotten)} Jitsi room(s) unmapped" + (f": {', '.join(forgotten[:20])}" if forgotten else ""))
