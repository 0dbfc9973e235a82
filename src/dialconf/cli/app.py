"""Entry point of the `dialconf` command: global options, sub-commands and exit codes.

Exit codes: 0 success; 1 the action was refused (one line on stderr says why); 2 usage error;
3 an unexpected internal error (a bug: please report it with DIALCONF_DEBUG=1 output).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer
from typer.exceptions import TyperException

from dialconf.cli import (
    admin,
    audit,
    bridge,
    db,
    dialin,
    mail,
    number,
    serve,
    status,
    tenant,
    token,
    user,
    worker,
)
from dialconf.cli.runtime import Runtime
from dialconf.config import Settings
from dialconf.errors import DialconfError
from dialconf.store.db import refusal_for

app = typer.Typer(
    name="dialconf",
    help="Dial-in audio conferencing administration: tenants, bridges, numbers, users, conference IDs and PINs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    ctx: typer.Context,
    acting_as: str | None = typer.Option(
        None,
        "--as",
        metavar="EMAIL",
        help="Act as this admin account (default: the operator). Also DIALCONF_ACTOR.",
    ),
) -> None:
    ctx.obj = Runtime(settings=Settings.from_env(), acting_as=acting_as)
    ctx.call_on_close(ctx.obj.close)


for module in (tenant, bridge, number, admin, token, user, mail, audit, dialin, db):
    app.add_typer(module.app, name=module.NAME, help=module.HELP)
serve.register(app)
worker.register(app)
status.register(app)


def _bare_email_flag(args: list[str]) -> list[str]:
    """In `user enable`, --email takes the user's address; a bare --email (no value) asks to send the mail.

    The parser cannot give one option an optional value, so a bare --email becomes --send-email.
    """
    try:
        at = next(i for i in range(len(args) - 1) if args[i] == "user" and args[i + 1] == "enable")
    except StopIteration:
        return args
    fixed = args[: at + 2]
    rest = args[at + 2 :]
    for i, arg in enumerate(rest):
        bare = arg == "--email" and (i + 1 == len(rest) or rest[i + 1].startswith("-"))
        fixed.append("--send-email" if bare else arg)
    return fixed


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` and return its exit code (what `main` exits with)."""
    args = _bare_email_flag(list(sys.argv[1:] if argv is None else argv))
    try:
        code = app(args=args, prog_name="dialconf", standalone_mode=False)
    # typer (>= 0.29) carries its own copy of click and raises these instead of click's
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("dialconf: aborted", file=sys.stderr)
        return 1
    except TyperException as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"dialconf: {exc}", file=sys.stderr)
        return exc.exit_code
    except DialconfError as exc:
        first, _, rest = exc.message.partition("\n")
        print(f"dialconf: {first}", file=sys.stderr)
        if rest:
            print(rest, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dialconf: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        refusal = refusal_for(exc)  # SQLite's write lock held by another writer past the busy timeout
        if refusal is not None:
            print(f"dialconf: {refusal.message}", file=sys.stderr)
            return 1
        if os.environ.get("DIALCONF_DEBUG"):
            traceback.print_exc()
        print(
            f"dialconf: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return 3
    # without standalone mode a ctx.exit(N) (e.g. --help) comes back as the return value
    return code if isinstance(code, int) else 0


def main() -> None:
    sys.exit(run())
