"""dialconf dialin ..."""

from __future__ import annotations

from dialconf.cli.common import JSON, runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import emit_json, say

NAME = "dialin"
HELP = "What the auto attendant does with a call."
app = App(help=HELP)


@app.command("lookup")
def lookup(
    ctx: Context,
    number: str = Option(..., "--number", metavar="+E164", help="The service number that was dialed."),
    digits: str = Option(
        ..., "--digits", metavar="DIGITS", help="What the caller typed, e.g. 1234567#."
    ),
    caller: str | None = Option(None, "--caller", metavar="+E164", help="The caller's number."),
    pin: str | None = Option(None, "--pin", metavar="PIN", help="Leader PIN typed after '*'."),
    as_json: bool = JSON,
) -> None:
    """Resolve a call: join which user's room, or reject it and why. Wrong IDs count against the caller.

    The operator's command (a phone system's account later): a reject prints what the caller hears,
    then in parentheses the reason for the admin.
    """
    from dialconf.services import dialin as dialin_service

    rt = runtime(ctx)
    result = dialin_service.lookup(
        rt.uow(), number=number, digits=digits, caller=caller, pin=pin, actor=rt.actor
    )
    if as_json:
        emit_json(result)
    elif result.result == "join":
        say(f"join room {result.room} (organizer {result.upn}, as {result.reason})")
    else:
        # the caller hears the reason; the admin reading this also gets the detail
        why = (
            result.reason if result.detail in (None, result.reason) else f"{result.reason} ({result.detail})"
        )
        extra = f"; caller locked out until {result.locked_until:%H:%M UTC}" if result.locked_until else ""
        say(f"reject: {why}{extra}")
