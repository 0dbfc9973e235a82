"""dialconf bridge ..."""

from __future__ import annotations

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import emit_json, show_record, show_table
from dialconf.domain.ids import DEFAULT_BRIDGE_ID_LENGTH
from dialconf.services.views import BridgeView

NAME = "bridge"
HELP = "Create conferencing bridges and look at them."
app = App(help=HELP)


def _show(view: BridgeView) -> None:
    show_record(
        f"Bridge {view.name} ({view.tenant})",
        [
            ("conference ID length", f"{view.id_length} digits (fixed)"),
            ("default number", view.default_number),
            ("IDs in use or quarantined", view.ids_in_use),
        ],
    )
    show_table(
        ["number", "type", "city", "country", "default", "languages"],
        [
            [
                n.display,
                "toll-free" if n.toll_free else "toll",
                n.city,
                n.country,
                n.default,
                [n.primary_language, *n.secondary_languages],
            ]
            for n in view.numbers
        ],
        empty="no service numbers yet: dialconf number add TENANT +E164",
        whole={"number"},
    )


@app.command("create")
def create(
    ctx: Context,
    tenant: str,
    name: str,
    id_length: int = Option(
        DEFAULT_BRIDGE_ID_LENGTH,
        "--id-length",
        help="Digits in conference IDs (4-10); cannot be changed later.",
    ),
    as_json: bool = JSON,
) -> None:
    """Create a bridge for a tenant."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    view = bridges.create_bridge(rt.uow(), tenant=tenant, name=name, id_length=id_length, actor=rt.actor)
    emit_json(view) if as_json else _show(view)


@app.command("show")
def show(
    ctx: Context, tenant: str, name: str | None = Argument(None), as_json: bool = JSON
) -> None:
    """Show one bridge of a tenant, or all of them."""
    from dialconf.services import bridges

    rt = runtime(ctx)
    views = bridges.show_bridges(rt.uow(), tenant=tenant, name=name, actor=rt.actor)
    if as_json:
        emit_json(views[0] if name else views)
        return
    if not views:
        print(f"tenant {tenant} has no bridge yet: dialconf bridge create {tenant} NAME")
    for view in views:
        _show(view)
