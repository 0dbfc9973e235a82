"""Entry point of the `dialconf` command: global options, sub-commands and exit codes.

Exit codes: 0 success; 1 the action was refused (one line on stderr says why); 2 usage error;
3 an unexpected internal error (a bug: please report it with DIALCONF_DEBUG=1 output).

Importing this module stays cheap (`dialconf --help` starts in milliseconds): the sub-commands are
listed in REGISTRY by module path and imported only when chosen, and nothing here loads the
database, mail or output libraries until a command needs them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dialconf.cli.framework import Abort, App, Context, Exit, Option, UsageError
from dialconf.errors import DialconfError

# name -> (module, help, command): a group is the module's `app`; a command is one of its app's commands.
# The help is repeated here so that the top-level help imports nothing (a test checks they agree).
REGISTRY: dict[str, tuple[str, str, str | None]] = {
    "up": (
        "dialconf.cli.serve",
        "Run dialconf on this machine: the embedded database, mail delivery and the web admin center, until Ctrl-C.",
        "up",
    ),
    "serve": (
        "dialconf.cli.serve",
        "Run the web admin center and REST API alone, until Ctrl-C (mail needs `up` or `worker`).",
        "serve",
    ),
    "worker": (
        "dialconf.cli.worker",
        "Deliver queued email over SMTP until SIGTERM or Ctrl-C (needs DIALCONF_SMTP_HOST).",
        "worker",
    ),
    "agi": (
        "dialconf.cli.agi",
        "Answer calls for Asterisk: a FastAGI server running the auto attendant, until Ctrl-C.",
        "agi",
    ),
    "status": (
        "dialconf.cli.status",
        "Show the database in use, its schema, what it holds, where mail goes and whether `up` runs.",
        "status",
    ),
    "tenant": ("dialconf.cli.tenant", "Create tenants and change their settings.", None),
    "bridge": ("dialconf.cli.bridge", "Create conferencing bridges and look at them.", None),
    "number": ("dialconf.cli.number", "Manage the dial-in service numbers of a tenant's bridges.", None),
    "admin": ("dialconf.cli.admin", "Admin and helpdesk accounts of a tenant.", None),
    "token": ("dialconf.cli.token", "API tokens of the acting account (--as / DIALCONF_ACTOR), for the REST API.", None),
    "user": (
        "dialconf.cli.user",
        "Users enabled for audio conferencing: conference IDs, PINs, numbers and providers.",
        None,
    ),
    "meeting": (
        "dialconf.cli.meeting",
        "Meetings and their invitations: each carries the dial-in block and its conference ID.",
        None,
    ),
    "mail": ("dialconf.cli.mail", "The outbox: emails queued, sent and failed.", None),
    "audit": ("dialconf.cli.audit", "Read the audit log: who changed what, when.", None),
    "dialin": ("dialconf.cli.dialin", "What the auto attendant does with a call.", None),
    "db": ("dialconf.cli.db", "Database schema migrations.", None),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"dialconf {version('dialconf')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "dialconf (version unknown: not installed)"


app = App(
    name="dialconf",
    help="Dial-in audio conferencing administration: tenants, bridges, numbers, users, conference IDs and PINs.",
    version=_version,
)


@app.callback()
def _global(
    ctx: Context,
    acting_as: str | None = Option(
        None,
        "--as",
        metavar="EMAIL",
        help="Act as this admin account (default: the operator). Also DIALCONF_ACTOR.",
    ),
) -> None:
    from dialconf.cli.runtime import Runtime
    from dialconf.config import Settings

    ctx.obj = Runtime(settings=Settings.from_env(), acting_as=acting_as)
    ctx.call_on_close(ctx.obj.close)


for _name, (_module, _help, _command) in REGISTRY.items():
    app.add_lazy(_name, _module, help=_help, command=_command)


def _bare_email_flag(args: list[str]) -> list[str]:
    """In `user enable`, --email takes the user's address; a bare --email (no value) asks to send the mail.

    One option cannot have both a required and an optional value, so a bare --email becomes --send-email.
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
        app(args, prog_name="dialconf")
    except Exit as exc:
        return exc.exit_code
    except Abort:
        print("dialconf: aborted", file=sys.stderr)
        return 1
    except UsageError as exc:
        exc.show()
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
    except BrokenPipeError:
        # the reader of our output (`| head`) has seen enough: not a failure of this command
        _silence_stdout()
        return 0
    except Exception as exc:
        refusal = _refusal_for(exc)  # SQLite's write lock held by another writer past the busy timeout
        if refusal is not None:
            print(f"dialconf: {refusal.message}", file=sys.stderr)
            return 1
        if os.environ.get("DIALCONF_DEBUG"):
            import traceback

            traceback.print_exc()
        print(
            f"dialconf: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return 3
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in a test)
        pass
    finally:
        os.close(devnull)


def _refusal_for(exc: BaseException) -> DialconfError | None:
    if "sqlalchemy" not in sys.modules:  # no database was touched, so no database refused
        return None
    from dialconf.store.db import refusal_for

    return refusal_for(exc)


def main() -> None:
    sys.exit(run())
