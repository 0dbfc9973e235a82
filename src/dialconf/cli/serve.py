"""dialconf up: everything on one machine."""

from __future__ import annotations

import signal
import threading

import typer

from dialconf.cli.common import runtime
from dialconf.cli.output import say


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(ctx: typer.Context) -> None:
        """Run dialconf on this machine: prepares the embedded database, then runs until Ctrl-C."""
        rt = runtime(ctx)
        rt.ensure_schema()
        rt.settings.pin_key()
        where = rt.settings.sqlite_path() or rt.engine.url.render_as_string(hide_password=True)
        say(f"dialconf up: database {where} (schema current)")
        if rt.settings.is_embedded:
            say("dialconf up: PIN key kept beside the database (mode 600)")
        say("dialconf up: started: database. Use the dialconf CLI in another terminal; Ctrl-C stops.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        say("dialconf up: stopped")
