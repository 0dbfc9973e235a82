"""dialconf up: everything on one machine; dialconf serve: the web server alone."""

from __future__ import annotations

import gc
import os
import socket
import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

from dialconf.cli.common import runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import say
from dialconf.cli.worker import database_label, stop_on_signals, timestamped
from dialconf.config import SECRET_FILE_NAME, ConfigError, SmtpSettings
from dialconf.domain.roles import Permission

if TYPE_CHECKING:
    import uvicorn

    from dialconf.cli.runtime import Runtime
    from dialconf.mail.catcher import MailCatcher
    from dialconf.telephony.server import ServerThread

HOST = Option("127.0.0.1", "--host", metavar="ADDR", help="Address to listen on.")
UP_PORT = Option(
    8080, "--port", metavar="N", min=0, max=65535, help="Port of the web admin center and API (0: any free one)."
)
AGI_LISTEN = Option(
    "127.0.0.1:4573",
    "--agi-listen",
    metavar="HOST:PORT",
    help="Address of the FastAGI server for Asterisk (port 0: any free one; 'off': none).",
)
SERVE_PORT = Option(8000, "--port", metavar="N", min=0, max=65535, help="Port to listen on (0: any free one).")


def register(app: App) -> None:
    @app.command("serve")
    def serve(ctx: Context, host: str = HOST, port: int = SERVE_PORT) -> None:
        """Run the web admin center and REST API alone, until Ctrl-C (mail needs `up` or `worker`)."""
        rt = runtime(ctx)
        rt.require(Permission.RUN_SERVICES)
        rt.ensure_schema()
        rt.settings.pin_key()
        sock = listen(host, port)
        server = web_server(rt, log_level="info")
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dialconf-web", daemon=True)
        stop = threading.Event()
        with stop_on_signals(stop):
            thread.start()
            say(f"dialconf serve: web admin center on {url_of(sock)} (API at /api/v1, Ctrl-C stops)")
            try:
                while not stop.wait(1.0):
                    if not thread.is_alive():
                        say("dialconf serve: the web server stopped unexpectedly")
                        break
            finally:
                server.should_exit = True
                thread.join(timeout=30)
                sock.close()
        say("dialconf serve: stopped")

    @app.command("up")
    def up(ctx: Context, host: str = HOST, port: int = UP_PORT, agi_listen: str = AGI_LISTEN) -> None:
        """Run dialconf on this machine: the embedded database, mail delivery and the web admin center, until Ctrl-C.

        It also answers calls for Asterisk on the FastAGI port (as `dialconf agi` does); when that
        port is taken, `up` says so and runs without it. At the start and every 30 seconds it runs the
        due meeting migration jobs and releases the IDs of meetings that are over, as `dialconf worker` does.

        Without DIALCONF_SMTP_HOST, mail goes to an embedded mail catcher on 127.0.0.1: it is
        delivered over SMTP as usual but sent no further; read it with `dialconf mail list` and
        `dialconf mail show ID`. One `up` at a time runs on a SQLite database: a second one is refused.

        On a database with no operator account, `up` creates one and prints its sign-in name and a
        password shown only then (or takes DIALCONF_ADMIN_EMAIL and DIALCONF_ADMIN_PASSWORD).
        """
        from dialconf.store.uplock import hold_up_lock

        rt = runtime(ctx)
        rt.require(Permission.RUN_SERVICES)
        path = rt.settings.sqlite_path()
        with ExitStack() as held:
            if path is not None:
                rt.ensure_schema()  # opens (or creates) the database the lock sits beside
                held.enter_context(hold_up_lock(path.absolute()))
            _serve(rt, host, port, agi_listen)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one); ConfigError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def web_server(rt: Runtime, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for the web app on this runtime's database (FastAPI is imported only here)."""
    import uvicorn

    from dialconf.web.app import create_app

    app = create_app(rt.settings, uow_factory=rt.uow)
    # what start-up loaded (modules, routes, mappers, templates) lives as long as the process: kept
    # out of the collector, a full collection no longer walks it (~40 ms, a pause in some request)
    gc.collect()
    gc.freeze()
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=log_level == "info"))


def first_operator(rt: Runtime) -> None:
    """Create the operator account on a database with none, and say how to sign in with it."""
    from dialconf.services.admins import ensure_operator_account

    created = ensure_operator_account(
        rt.uow(),
        email=os.environ.get("DIALCONF_ADMIN_EMAIL") or None,
        password=os.environ.get("DIALCONF_ADMIN_PASSWORD") or None,
    )
    if created is None:
        return
    if created.password is None:
        say(f"dialconf up: created operator account {created.email} (password from DIALCONF_ADMIN_PASSWORD)")
    else:
        say(
            f"dialconf up: created operator account {created.email} with password {created.password} "
            "(shown only now: sign in and keep it somewhere safe)"
        )


def _serve(rt: Runtime, host: str = "127.0.0.1", port: int = 8080, agi_listen: str = "off") -> None:
    """Run the services of `up` until a signal stops them (the caller holds the `up` lock)."""
    from dialconf.cli.chores import DEFAULT_INTERVAL, MeetingChores
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

    first_operator(rt)
    sock = listen(host, port)
    web = web_server(rt)
    web_thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, name="dialconf-web", daemon=True)
    say(f"dialconf up: web admin center on {url_of(sock)} (REST API at {url_of(sock)}/api/v1)")
    started.append(f"web on {url_of(sock)}")

    agi = _start_agi(rt, agi_listen)
    if agi is not None:
        say(f"dialconf up: FastAGI server for Asterisk on agi://{agi.address}")
        started.append(f"FastAGI on {agi.address}")

    stop = threading.Event()
    delivery = DeliveryWorker(rt.uow(), transport, report=timestamped("dialconf up: mail"))
    thread = threading.Thread(target=delivery.run, args=(stop,), name="dialconf-mail", daemon=True)
    chores = MeetingChores(rt.uow(), rt.actor, report=timestamped("dialconf up: meetings"))
    meetings = threading.Thread(target=chores.run, args=(stop,), name="dialconf-meetings", daemon=True)
    started.append(f"meeting jobs every {DEFAULT_INTERVAL:g} s")
    with stop_on_signals(stop):
        thread.start()
        meetings.start()
        web_thread.start()
        say(
            f"dialconf up: started: {', '.join(started)}. "
            "Use the dialconf CLI in another terminal; Ctrl-C stops."
        )
        try:
            while not stop.wait(1.0):
                if not thread.is_alive():
                    say("dialconf up: mail delivery stopped unexpectedly")
                    break
                if not meetings.is_alive():
                    say("dialconf up: the meeting jobs stopped unexpectedly")
                    break
                if not web_thread.is_alive():
                    say("dialconf up: the web server stopped unexpectedly")
                    break
        finally:
            stop.set()
            web.should_exit = True
            web_thread.join(timeout=30)
            sock.close()
            if agi is not None:
                agi.stop()
            thread.join(timeout=60)
            meetings.join(timeout=60)
            if catcher is not None:
                catcher.stop()
    say("dialconf up: stopped")


def _start_agi(rt: Runtime, agi_listen: str) -> ServerThread | None:
    """The FastAGI server of `up`, or None when it is off or its port is taken (said, not fatal)."""
    if agi_listen.strip().lower() == "off":
        return None
    from dialconf.cli.agi import start_agi

    try:
        return start_agi(agi_listen, rt.uow, rt.actor)
    except ConfigError as exc:
        say(f"dialconf up: no FastAGI server: {exc} (give --agi-listen HOST:PORT, or off)")
        return None


# `dialconf up` and `dialconf serve` are top-level commands: the CLI imports this module only when it is chosen
app = App()
register(app)
