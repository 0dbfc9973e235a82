"""dialconf agi: the FastAGI server that answers calls for Asterisk (docs/asterisk.md).

This entry point wires the telephony adapter (which knows nothing of the services) to the dial-in
service: `ServiceResolver` is what the auto attendant asks, and `start_agi` is shared with `dialconf up`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from dialconf.cli.common import runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import say
from dialconf.config import ConfigError
from dialconf.domain.roles import Actor, Permission

if TYPE_CHECKING:
    from dialconf.store.uow import UnitOfWork
    from dialconf.telephony.attendant import Prompts, Resolution
    from dialconf.telephony.server import ServerThread

DEFAULT_LISTEN = "127.0.0.1:4573"
app = App()


class ServiceResolver:
    """The dial-in service as the auto attendant sees it; each call gets its own unit of work."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], actor: Actor) -> None:
        self._uow_factory = uow_factory
        self._actor = actor

    def language(self, number: str) -> str | None:
        from dialconf.services import dialin

        language = dialin.number_language(self._uow_factory(), number=number, actor=self._actor)
        # Asterisk's sound directories are named by language ('en', 'fr'), not by region
        return language.split("-")[0].lower() if language else None

    def resolve(self, number: str, digits: str, caller: str | None, pin: str | None) -> Resolution:
        from dialconf.errors import InvalidPhoneNumber
        from dialconf.services import dialin
        from dialconf.telephony.attendant import Resolution

        try:
            found = dialin.lookup(
                self._uow_factory(), number=number, digits=digits, caller=caller, pin=pin, actor=self._actor
            )
        except InvalidPhoneNumber:
            return Resolution("rejected")
        delay = float(found.delay_seconds)
        if found.result == "join":
            role = "leader" if found.reason == "leader" else "participant"
            return Resolution(
                "join", room=found.room, role=role, organizer=found.upn, meeting=found.meeting, delay=delay
            )
        if found.reason in (dialin.CALLER_LOCKED, dialin.PIN_LOCKED):
            return Resolution("locked", delay=delay)
        if found.reason in (dialin.WRONG_PIN, dialin.NO_PIN):
            return Resolution("wrong_pin", delay=delay)
        if found.reason == dialin.NOT_VALID:
            # the wrong ID that locks the caller out ends the call, too
            return Resolution("locked" if found.locked_until else "invalid", delay=delay)
        return Resolution("rejected", delay=delay)  # not a dial-in number of this service


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:4573`, `[::1]:4573` or `:4573` -> (host, port); ConfigError otherwise."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--listen takes HOST:PORT (e.g. {DEFAULT_LISTEN}), not '{text}'")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def parse_sounds(assignments: list[str]) -> Prompts:
    """`--sound get_id=custom/enter-id` ... -> the attendant's prompts; ConfigError for an unknown name."""
    from dataclasses import fields
    from typing import Any

    from dialconf.telephony.attendant import Prompts

    chosen: dict[str, Any] = {}
    names = [f.name for f in fields(Prompts) if f.type in ("str", str)]
    for assignment in assignments:
        name, sep, sound = assignment.partition("=")
        if not sep or name.strip() not in names or not sound.strip() or any(c.isspace() for c in sound.strip()):
            raise ConfigError(f"--sound takes NAME=FILE with NAME one of {', '.join(names)}, not '{assignment}'")
        chosen[name.strip()] = sound.strip()
    return Prompts(**chosen)


def start_agi(
    listen: str, uow_factory: Callable[[], UnitOfWork], actor: Actor, prompts: Prompts | None = None
) -> ServerThread:
    """Start the FastAGI server in its own thread and event loop; `.stop()` ends it."""
    from dialconf.cli.serve import listen as listening_socket
    from dialconf.telephony.attendant import Attendant
    from dialconf.telephony.server import ServerThread

    host, port = parse_listen(listen)
    attendant = Attendant(ServiceResolver(uow_factory, actor), prompts)
    return ServerThread(listening_socket(host, port), attendant.answer).start()


@app.command("agi")
def agi(
    ctx: Context,
    listen: str = Option(
        DEFAULT_LISTEN, "--listen", metavar="HOST:PORT", help="Address of the FastAGI server (port 0: any free one)."
    ),
    sounds: list[str] = Option(
        [],
        "--sound",
        metavar="NAME=FILE",
        help="Use another sound file for a prompt: get_id, invalid_id, get_pin, invalid_pin, goodbye. Repeat for more.",
    ),
) -> None:
    """Answer calls for Asterisk: a FastAGI server running the auto attendant, until Ctrl-C.

    The dialplan calls AGI(agi://HOST:PORT,${EXTEN}); the attendant asks for the conference ID
    (then '*' and the PIN to lead), sets DIALCONF_RESULT, DIALCONF_ROOM, DIALCONF_ROLE and
    DIALCONF_ORGANIZER and returns to the dialplan. See docs/asterisk.md.
    """
    import logging

    from dialconf.cli.worker import stop_on_signals

    prompts = parse_sounds(sounds)
    rt = runtime(ctx)
    actor = rt.require(Permission.RESOLVE_CALLS)
    rt.ensure_schema()
    rt.settings.pin_key()
    logging.basicConfig(level=logging.WARNING, format="dialconf agi: %(message)s")
    server = start_agi(listen, rt.uow, actor, prompts)
    say(f"dialconf agi: FastAGI server on agi://{server.address} (Ctrl-C stops)")
    stop = threading.Event()
    with stop_on_signals(stop):
        try:
            while not stop.wait(1.0):
                if not server.is_alive():
                    say("dialconf agi: the FastAGI server stopped unexpectedly")
                    break
        finally:
            server.stop()
    say("dialconf agi: stopped")
