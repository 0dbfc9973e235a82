"""Options and helpers shared by the command modules."""

from __future__ import annotations

from dialconf.cli.framework import Context, Option
from dialconf.cli.runtime import Runtime

JSON = Option(False, "--json", help="Print one JSON document on stdout.")
EMAIL = Option(
    None,
    "--email/--no-email",
    help="Send the email for this change, or not (default: the tenant's auto_email setting).",
)
TO = Option(None, "--to", metavar="ADDR", help="Send the email to this address instead of the user's.")


def runtime(ctx: Context) -> Runtime:
    obj = ctx.find_root().obj
    assert isinstance(obj, Runtime)
    return obj
