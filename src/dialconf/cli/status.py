"""dialconf status: which database this command uses, what it holds, where mail goes, whether `up` runs."""

from __future__ import annotations

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context


def register(app: App) -> None:
    @app.command("status")
    def status(ctx: Context, as_json: bool = JSON) -> None:
        """Show the database in use, its schema, what it holds, where mail goes and whether `up` runs.

        Counts tenants, users and queued mail; the SMTP target comes from DIALCONF_SMTP_*.
        Operator only. It only looks: a database that does not exist yet is not created.
        """
        # imported here: `dialconf --help` and other commands do not pay for the database layer
        from dialconf.cli.output import emit_json
        from dialconf.domain.roles import Permission
        from dialconf.services.status import installation_status

        rt = runtime(ctx)
        actor = rt.require(Permission.RUN_SERVICES)
        reader = None if rt.database_missing() else rt.reader
        view = installation_status(rt.settings, actor=actor, reader=reader)
        if as_json:
            emit_json(view.to_dict())
            return
        if not view.exists:
            database = f"no database yet at {view.database} (the first command that needs one creates it)"
        else:
            database = view.database
        if view.schema_version is None:
            schema = "none yet" if not view.exists else f"none yet (newest is {view.schema_head})"
        elif view.schema_current:
            schema = f"{view.schema_version} (current)"
        else:
            schema = f"{view.schema_version}, newest is {view.schema_head}: run `dialconf db upgrade`"
        if view.up_running:
            up = f"running (PID {view.up_pid})" if view.up_pid else "running"
        elif rt.settings.sqlite_path() is None:
            up = "not tracked on PostgreSQL"
        else:
            up = "not running"
        unknown = "unknown until the schema is current"
        # plain lines, not a table: a long path or URL is never cut at the terminal's width
        for name, value in [
            ("database", database),
            ("schema", schema),
            ("tenants", unknown if view.tenants is None else view.tenants),
            ("users", unknown if view.users is None else view.users),
            ("queued mail", unknown if view.queued_mail is None else view.queued_mail),
            ("smtp", view.smtp),
            ("dialconf up", up),
        ]:
            print(f"{name + ':':<13}{value}")


# `dialconf status` is a top-level command: the CLI imports this module only when it is chosen
app = App()
register(app)
