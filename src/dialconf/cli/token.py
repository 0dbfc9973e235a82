"""dialconf token ..."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Argument, Context, Option
from dialconf.cli.output import emit_json, say, show_table
from dialconf.errors import InvalidInput

if TYPE_CHECKING:
    from dialconf.cli.runtime import Runtime
    from dialconf.domain.roles import Actor

NAME = "token"
HELP = "API tokens of the acting account (--as / DIALCONF_ACTOR), for the REST API."
app = App(help=HELP)


def _account_actor(rt: Runtime) -> Actor:
    # the implicit CLI operator is no account, and a token is always some account's
    if not (rt.acting_as or rt.settings.actor):
        raise InvalidInput("a token belongs to an account: use --as EMAIL")
    return rt.actor


@app.command("create")
def create(
    ctx: Context,
    name: str = Option("", "--name", metavar="TEXT", help="What the token is for."),
    as_json: bool = JSON,
) -> None:
    """Create a token and print it once: it is stored only as a hash and cannot be shown again."""
    from dialconf.services import tokens

    rt = runtime(ctx)
    new = tokens.create_token(rt.uow(), actor=_account_actor(rt), name=name)
    if as_json:
        emit_json(new)
    else:
        say(f"token {new.id} ({new.name}): {new.token}")
        say("Keep it now: it is not shown again. Send it as: Authorization: Bearer TOKEN")


@app.command("list")
def list_(ctx: Context, as_json: bool = JSON) -> None:
    """List the acting account's tokens (never the tokens themselves)."""
    from dialconf.services import tokens

    rt = runtime(ctx)
    views = tokens.list_tokens(rt.uow(), actor=_account_actor(rt))
    if as_json:
        emit_json(views)
    else:
        show_table(
            ["id", "name", "created", "last used", "revoked"],
            [[v.id, v.name, v.created_at, v.last_used_at or "", v.revoked_at or ""] for v in views],
            empty="no tokens",
        )


@app.command("revoke")
def revoke(
    ctx: Context,
    token_id: int = Argument(..., metavar="ID", help="The token's id (from `token list`)."),
    as_json: bool = JSON,
) -> None:
    """Revoke a token: one of the acting account's own, or any as an operator."""
    from dialconf.services import tokens

    rt = runtime(ctx)
    view = tokens.revoke_token(rt.uow(), token_id=token_id, actor=rt.actor)
    emit_json(view) if as_json else say(f"revoked token {view.id} ({view.name}) of {view.account}")
