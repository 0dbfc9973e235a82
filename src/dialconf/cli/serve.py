"""dialconf up: everything on one machine."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

from dialconf.cli.common import runtime
from dialconf.cli.framework import App, Context
from dialconf.cli.output import say
from dialconf.cli.worker import database_label, stop_on_signals, timestamped
from dialconf.config import SECRET_FILE_NAME, SmtpSettings
from dialconf.domain.roles import Permission

if TYPE_CHECKING:
    from dialconf.cli.runtime import Runtime
    from dialconf.mail.catcher import MailCatcher


def register(app: App) -> None:
    @app.command("up")
    def up(ctx: Context) -> None:
        """Run dialconf on this machine: the embedded database and mail delivery, until Ctrl-C.

        Without DIALCONF_SMTP_HOST, mail goes to an embedded mail catcher on 127.0.0.1: it is
        delivered over SMTP as usual but sent no further; read it with `dialconf mail list` and
        `dialconf mail show ID`. One `up` at a time runs on a SQLite database: a second one is refused.
        """
        from dialconf.store.uplock import hold_up_lock

        rt = runtime(ctx)
        rt.require(Permission.RUN_SERVICES)
        path = rt.settings.sqlite_path()
        with ExitStack() as held:
            if path is not None:
                rt.ensure_schema()  # opens (or creates) the database the lock sits beside
                held.enter_context(hold_up_lock(path.absolute()))
            _serve(rt)


def _serve(rt: Runtime) -> None:
    """Run the services of `up` until a signal stops them (the caller holds the `up` lock)."""
    from dialconf.mail.catcher import MailCatcher
    from dialconf.mail.smtp import SmtpTransport
    from dialconf.mail.worker import DeliveryWorker

    rt.ensure_schema()
    rt.settings.pin_key()
    path = rt.settings.sqlite_path()
    say(f"dialconf up: database: {path.absolute() if path else database_label(rt)} (schema current)")
    if path is not None and not rt.settings.secret_key:
        say(f"dialconf up: PIN key: {path.absolute().parent / SECRET_FILE_NAME} (mode 600)")
    started = ["database"]

    catcher: MailCatcher | None = None
    smtp = rt.settings.smtp
    if smtp.host is None:
        catcher = MailCatcher(directory=rt.settings.caught_mail_dir())
        catcher.start()
        smtp = SmtpSettings(host=catcher.host, port=catcher.port, security="none", timeout=10.0)
        kept = f"; copies kept as .eml files in {catcher.directory}" if catcher.directory else ""
        say(
            f"dialconf up: mail catcher listening on {catcher.host}:{catcher.port} "
            f"(DIALCONF_SMTP_HOST is not set, so no mail leaves this machine{kept})"
        )
        started.append(f"mail catcher on {catcher.host}:{catcher.port}")
    transport = SmtpTransport(smtp)
    say(f"dialconf up: mail delivery to {transport.description}")
    started.append("mail delivery")

    stop = threading.Event()
    delivery = DeliveryWorker(rt.uow(), transport, report=timestamped("dialconf up: mail"))
    thread = threading.Thread(target=delivery.run, args=(stop,), name="dialconf-mail", daemon=True)
    with stop_on_signals(stop):
        thread.start()
        say(
            f"dialconf up: started: {', '.join(started)}. "
            "Use the dialconf CLI in another terminal; Ctrl-C stops."
        )
        try:
            while not stop.wait(1.0):
                if not thread.is_alive():
                    say("dialconf up: mail delivery stopped unexpectedly")
                    break
        finally:
            stop.set()
            thread.join(timeout=60)
            if catcher is not None:
                catcher.stop()
    say("dialconf up: stopped")


# `dialconf up` is a top-level command: the CLI imports this module only when it is chosen
app = App()
register(app)
