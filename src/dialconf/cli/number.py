"""dialconf number ..."""

from __future__ import annotations

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import emit_json, say, show_table
from dialconf.services.views import NumberView

NAME = "number"
HELP = "Manage the dial-in service numbers of a tenant's bridges."
app = App(help=HELP)


def _one(view: NumberView, verb: str, as_json: bool) -> None:
    if as_json:
        emit_json(view)
    else:
        kind = "toll-free" if view.toll_free else "toll"
        default = ", default" if view.default else ""
        say(f"{verb} {view.display} ({kind}{default}) on bridge {view.bridge}")


@app.command("add")
def add(
    ctx: Context,
    tenant: str,
    number: str = Argument(..., metavar="+E164"),
    bridge: str | None = Option(None, "--bridge", help="Bridge name (default: the tenant's first bridge)."),
    toll_free: bool = Option(False, "--toll-free", help="The number is toll-free."),
    city: str | None = Option(None, "--city", metavar="TEXT", help="City shown beside the number."),
    default: bool = Option(False, "--default", help="Make it the bridge default (toll numbers only)."),
    language: list[str] = Option(
        [], "--language", metavar="L", help="Prompt language; first is primary, up to 4 more. Default en-US."
    ),
    as_json: bool = JSON,
) -> None:
    """Add a service number to a bridge (operator only: numbers are the operator's inventory)."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    view = bridges.add_number(
        rt.uow(),
        tenant=tenant,
        number=number,
        bridge=bridge,
        toll_free=toll_free,
        city=city,
        default=default,
        languages=language or None,
        actor=rt.actor,
    )
    _one(view, "added", as_json)


@app.command("list")
def list_(ctx: Context, tenant: str, as_json: bool = JSON) -> None:
    """List a tenant's service numbers."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    views = bridges.list_numbers(rt.uow(), tenant=tenant, actor=rt.actor)
    if as_json:
        emit_json(views)
        return
    show_table(
        ["number", "type", "bridge", "city", "country", "default", "languages"],
        [
            [
                v.display,
                "toll-free" if v.toll_free else "toll",
                v.bridge,
                v.city,
                v.country,
                v.default,
                [v.primary_language, *v.secondary_languages],
            ]
            for v in views
        ],
        empty=f"no service numbers yet: dialconf number add {tenant} +E164",
        whole={"number"},
    )


@app.command("remove")
def remove(
    ctx: Context, tenant: str, number: str = Argument(..., metavar="+E164"), as_json: bool = JSON
) -> None:
    """Remove a service number nobody depends on."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    _one(bridges.remove_number(rt.uow(), tenant=tenant, number=number, actor=rt.actor), "removed", as_json)


@app.command("set-default")
def set_default(
    ctx: Context, tenant: str, number: str = Argument(..., metavar="+E164"), as_json: bool = JSON
) -> None:
    """Make a toll number the default of its bridge (admins choose among the operator's numbers)."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    _one(
        bridges.set_default_number(rt.uow(), tenant=tenant, number=number, actor=rt.actor),
        "default is now",
        as_json,
    )
