"""dialconf db ..."""

from __future__ import annotations

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context
from dialconf.cli.output import emit_json, say
from dialconf.domain.roles import Permission

NAME = "db"
HELP = "Database schema migrations."
app = App(help=HELP)


@app.command("upgrade")
def upgrade(ctx: Context, as_json: bool = JSON) -> None:
    """Create or upgrade the database schema to the newest revision (run it after every upgrade)."""
    from dialconf.store import migrate

    rt = runtime(ctx)
    rt.require(Permission.RUN_SERVICES)
    before, after = migrate.upgrade(rt.engine)
    if as_json:
        emit_json(
            {"database": rt.engine.url.render_as_string(hide_password=True), "from": before, "to": after}
        )
    elif before == after:
        say(f"database is up to date (revision {after})")
    else:
        say(f"database upgraded from {before or 'empty'} to revision {after}")
