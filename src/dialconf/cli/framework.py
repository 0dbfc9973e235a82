"""A small declarative command-line layer over the standard library's argparse.

It exists so that `dialconf --help` starts in a few milliseconds: it imports nothing beyond the
standard library, and a sub-command's module is imported only when that sub-command is chosen.
The declarations read like Typer's, so a Typer-style command ports by changing its imports:

    from dialconf.cli.framework import App, Argument, Context, Option

    app = App(help="Users enabled for audio conferencing.")

    @app.command("enable")
    def enable(
        ctx: Context,                                    # optional; named ctx or annotated Context
        upn: str,                                        # no default: a required argument, shown as UPN
        file: Path | None = Argument(None, metavar="[FILE.csv]", help="..."),  # optional argument
        tenant: str = Option(..., "--tenant", "-t", metavar="T", help="..."),  # ... = required
        limit: int = Option(100, "--limit", min=1, max=1000, metavar="N", help="..."),
        send_email: bool | None = Option(None, "--email/--no-email", help="..."),  # on/off pair
        dry_run: bool = Option(False, "--dry-run", help="..."),                     # a flag
        domain: list[str] = Option([], "--domain", metavar="DOMAIN", help="Repeat for more."),
    ) -> None:
        \"\"\"First line: the summary in the group's list. The rest: more of the command's help.\"\"\"

The types come from the annotations: str, int, float, Path, bool (a flag, or a `--x/--no-x` pair
whose default may be None), `X | None`, and `list[X]` (a repeatable option). A parameter with a
plain default becomes an option named after it (`--dry-run` for dry_run). Every option should
have a help text: the help test of the CLI checks that each one has.

Groups: `parent.add_app(child, name=..., help=...)` adds an App already imported, and
`parent.add_lazy(name, "package.module", help=..., attribute="app")` one whose module is imported
only when the name is chosen; a lazy entry may also name a single command: `attribute="app"` and
`command="up"` take the command `up` of that module's app. `@app.callback()` declares the group's
own options (given before the sub-command); it runs before the sub-command, with its Context.

The Context (`ctx.obj`, `ctx.parent`, `ctx.find_root()`, `ctx.call_on_close(f)`,
`ctx.command_path`), `Exit(code)`, `Abort`, `UsageError`, `echo()`, `prompt()` and `confirm()`
behave like Typer's. Not supported (add them here if a command needs them): envvar, hidden,
count, prompt= on an option, callbacks on options, and shell completion.

`App.__call__(args, prog_name=...)` runs the command line and returns the command's result;
`--help` prints the help and returns 0. Usage errors raise `UsageError` (the caller prints it with
`.show()` and exits 2); a group given no sub-command raises one whose `.show()` prints the
group's help, as Typer's `no_args_is_help` does.

To keep start-up fast, a command module imports the services (and so SQLAlchemy, Jinja2, ...)
inside its command functions, not at the top: `dialconf user --help` imports the module to list
its commands.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, NoReturn

REQUIRED: Any = ...
HELP_NAMES = ("-h", "--help")


class Exit(Exception):
    """End the command with this exit code (0 by default)."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.exit_code = code


class Abort(Exception):
    """The user declined (a prompt answered no, or interrupted)."""


class UsageError(Exception):
    """The command line is wrong: `show()` prints the usage and the message on stderr; exit 2.

    A command may raise it itself (`raise UsageError("--a and --b contradict each other")`).
    """

    exit_code = 2

    def __init__(
        self, message: str, *, prog: str = "dialconf", usage: str = "", help_text: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.prog = prog
        self.usage = usage
        self.help_text = help_text

    def show(self) -> None:
        if self.help_text is not None:  # a group given no sub-command: its help says it all
            sys.stderr.write(self.help_text)
            return
        usage = f"{self.usage}\nTry '{self.prog} --help' for help.\n\n" if self.usage else ""
        sys.stderr.write(f"{usage}{self.prog}: error: {self.message}\n")


class _HelpRequested(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Context:
    """What a command knows of how it was called: `obj` is set by a group callback for its commands."""

    command_path: str
    parent: Context | None = None
    obj: Any = None
    _on_close: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def find_root(self) -> Context:
        ctx = self
        while ctx.parent is not None:
            ctx = ctx.parent
        return ctx

    def call_on_close(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """Call `callback` when the command line has run (also after an error)."""
        self.find_root()._on_close.append(callback)
        return callback

    def close(self) -> None:
        callbacks, self._on_close[:] = self._on_close[::-1], []
        for callback in callbacks:
            callback()


class OptionInfo:
    """The default of an option parameter: `Option(default, "--long", "-s", metavar=..., help=...)`.

    `...` as the default makes the option required. A name "--x/--no-x" declares an on/off pair.
    `min` and `max` bound a number (inclusive).
    """

    def __init__(
        self,
        default: Any = REQUIRED,
        *names: str,
        metavar: str | None = None,
        help: str | None = None,
        min: float | None = None,
        max: float | None = None,
    ) -> None:
        self.default = default
        self.names = names
        self.metavar = metavar
        self.help = help
        self.min = min
        self.max = max


class ArgumentInfo:
    """The default of a positional parameter: `Argument(default, metavar=..., help=...)`; `...` = required."""

    def __init__(
        self, default: Any = REQUIRED, *, metavar: str | None = None, help: str | None = None
    ) -> None:
        self.default = default
        self.metavar = metavar
        self.help = help


def Option(
    default: Any = REQUIRED,
    *names: str,
    metavar: str | None = None,
    help: str | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Any:
    """Declare an option: see OptionInfo."""
    return OptionInfo(default, *names, metavar=metavar, help=help, min=min, max=max)


def Argument(default: Any = REQUIRED, *, metavar: str | None = None, help: str | None = None) -> Any:
    """Declare a positional argument: see ArgumentInfo."""
    return ArgumentInfo(default, metavar=metavar, help=help)


def echo(message: str = "", *, err: bool = False) -> None:
    """Print a line on stdout (or stderr with `err`), as typer.echo does."""
    print(message, file=sys.stderr if err else sys.stdout)


def prompt(text: str, *, hide_input: bool = False, confirmation_prompt: bool = False) -> str:
    """Ask on the terminal; with `hide_input` nothing is echoed, with `confirmation_prompt` it is asked twice."""
    import getpass

    ask: Callable[[str], str] = getpass.getpass if hide_input else input
    while True:
        try:
            value = ask(f"{text}: ")
            if not confirmation_prompt or ask("Repeat for confirmation: ") == value:
                return value
        except EOFError as exc:
            raise Abort from exc
        print("Error: the two entered values do not match.", file=sys.stderr)


def confirm(text: str, *, default: bool = False, abort: bool = False) -> bool:
    """Ask a yes/no question on the terminal; with `abort`, a no raises Abort."""
    suffix = " [Y/n]: " if default else " [y/N]: "
    while True:
        try:
            answer = input(text + suffix).strip().lower()
        except EOFError as exc:
            raise Abort from exc
        if answer in ("y", "yes", "n", "no", ""):
            yes = default if not answer else answer.startswith("y")
            if abort and not yes:
                raise Abort
            return yes
        print("Error: answer y or n.", file=sys.stderr)


# --- parsing -------------------------------------------------------------------------------------


def _width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            columns = 80
    return max(40, min(columns, 120))


class _Formatter(argparse.HelpFormatter):
    """argparse's help, with "Usage:", paragraphs kept, and "--long, -s METAVAR" written once."""

    def __init__(self, prog: str) -> None:
        width = _width()
        super().__init__(prog, max_help_position=min(32, width // 3), width=width)

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "Usage: ")

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
        return "\n\n".join(
            textwrap.fill(p, width, initial_indent=indent, subsequent_indent=indent) for p in paragraphs
        )

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return super()._format_action_invocation(action)
        names = ", ".join(action.option_strings)
        if action.nargs == 0:
            return names
        return f"{names} {self._format_args(action, self._get_default_metavar_for_optional(action))}"


class _Parser(argparse.ArgumentParser):
    def __init__(self, prog: str, usage: str, description: str | None, commands: str = "") -> None:
        super().__init__(
            prog=prog,
            usage=usage.replace("%", "%%"),
            description=description,
            formatter_class=_Formatter,
            add_help=False,
            allow_abbrev=False,
        )
        self.commands = commands

    def format_help(self) -> str:
        return super().format_help() + self.commands

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, prog=self.prog, usage=self.format_usage().rstrip("\n"))


class _Help(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="Show this message and exit."
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        raise _HelpRequested(parser.format_help())


class _Version(argparse.Action):
    def __init__(
        self, option_strings: Sequence[str], dest: str, version: Callable[[], str], **kwargs: Any
    ) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="Print the version and exit."
        )
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(self.version())
        raise Exit(0)


class _Switch(argparse.Action):
    """An on/off pair such as --email/--no-email: the "on" names store True, the "off" names False."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, on: Sequence[str] = (), **kwargs: Any
    ) -> None:
        kwargs.pop("nargs", None)
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.on = tuple(on)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, option_string in self.on)


def _number(kind: type, low: float | None, high: float | None) -> Callable[[str], Any]:
    word = "an integer" if kind is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {word}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is not in the range {_range(low, high)}")
        return value

    convert.__name__ = kind.__name__
    return convert


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low}<=x<={high}"
    return f"x>={low}" if low is not None else f"x<={high}"


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(the type, whether it is a list) of an annotation, `X | None` read as X."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return item, True
    return hint, False


@dataclass
class _Param:
    name: str
    default: Any
    convert: Callable[[Any], Any] | None = None


class Command:
    """A function declared with @app.command: its parameters become the command's options and arguments."""

    def __init__(self, name: str, function: Callable[..., Any], help: str | None) -> None:
        self.name = name
        self.function = function
        doc = help if help is not None else inspect.getdoc(function) or ""
        self.help = doc
        self.summary = doc.split("\n\n")[0].replace("\n", " ").strip()

    def parser(self, prog: str) -> tuple[_Parser, list[_Param], str | None]:
        """The argparse parser of the command, its parameters, and the name of its Context parameter."""
        hints = typing.get_type_hints(self.function)
        signature = inspect.signature(self.function)
        arguments: list[tuple[str, dict[str, Any]]] = []
        options: list[tuple[list[str], dict[str, Any]]] = []
        params: list[_Param] = []
        context_name: str | None = None
        for name, param in signature.parameters.items():
            hint = hints.get(name, str)
            if hint is Context or name == "ctx":
                context_name = name
                continue
            spec = param.default
            if spec is inspect.Parameter.empty:
                spec = ArgumentInfo()
            elif not isinstance(spec, OptionInfo | ArgumentInfo):
                spec = OptionInfo(spec)
            kind, many = _unwrap(hint)
            if isinstance(spec, ArgumentInfo):
                kwargs, convert = self._argument(name, spec, kind)
                arguments.append((name, kwargs))
            else:
                names, kwargs, convert = self._option(name, spec, kind, many)
                options.append((names, kwargs))
            params.append(_Param(name, spec.default, convert))
        positional = " ".join(self._usage_of(kwargs) for _, kwargs in arguments)
        usage = f"{prog} [OPTIONS]" + (f" {positional}" if positional else "")
        parser = _Parser(prog, usage, self.help or None)
        if arguments:
            group = parser.add_argument_group("Arguments")
            for name, kwargs in arguments:
                group.add_argument(name, **kwargs)
        group = parser.add_argument_group("Options")
        for names, kwargs in options:
            group.add_argument(*names, **kwargs)
        group.add_argument(*HELP_NAMES, action=_Help)
        return parser, params, context_name

    @staticmethod
    def _usage_of(kwargs: dict[str, Any]) -> str:
        metavar = str(kwargs["metavar"])
        return f"[{metavar}]" if kwargs.get("nargs") == "?" and not metavar.startswith("[") else metavar

    @staticmethod
    def _argument(
        name: str, spec: ArgumentInfo, kind: Any
    ) -> tuple[dict[str, Any], Callable[[Any], Any] | None]:
        convert = _converter(kind, None, None)
        kwargs: dict[str, Any] = {"metavar": spec.metavar or name.upper(), "help": _escape(spec.help or "")}
        if spec.default is not REQUIRED:
            kwargs.update(nargs="?", default=None)
        if convert is not None:
            kwargs["type"] = convert
        return kwargs, None

    @staticmethod
    def _option(
        name: str, spec: OptionInfo, kind: Any, many: bool
    ) -> tuple[list[str], dict[str, Any], Callable[[Any], Any] | None]:
        declared = list(spec.names) or ["--" + name.replace("_", "-")]
        notes: list[str] = []
        kwargs: dict[str, Any] = {"dest": name}
        if kind is bool and not many:
            on = [n for d in declared for n in d.split("/")[:1]]
            off = [n for d in declared if "/" in d for n in d.split("/")[1:]]
            if off:
                names = on + off
                kwargs.update(action=_Switch, on=on, default=spec.default)
            else:
                names = on
                kwargs.update(
                    action="store_false" if spec.default else "store_true", default=bool(spec.default)
                )
        else:
            names = declared
            kwargs["metavar"] = spec.metavar or _METAVARS.get(kind, "TEXT")
            convert = _converter(kind, spec.min, spec.max)
            if convert is not None:
                kwargs["type"] = convert
            if spec.min is not None or spec.max is not None:
                notes.append(f"[{_range(spec.min, spec.max)}]")
            if many:
                kwargs.update(action="append", default=None)
            elif spec.default is REQUIRED:
                kwargs["required"] = True
            else:
                kwargs["default"] = spec.default
            if spec.default is REQUIRED:
                notes.append("[required]")
            elif spec.default not in (None, [], ""):
                notes.append(f"[default: {spec.default}]")
        kwargs["help"] = _escape(" ".join([spec.help or "", *notes]).strip())
        return (
            names,
            kwargs,
            (lambda value, d=spec.default: list(d) if value is None else value) if many else None,
        )


_METAVARS: dict[Any, str] = {int: "INTEGER", float: "FLOAT", Path: "PATH", str: "TEXT"}


def _converter(kind: Any, low: float | None, high: float | None) -> Callable[[str], Any] | None:
    if kind is int or kind is float:
        return _number(kind, low, high)
    if kind is Path:
        return Path
    return None


def _escape(text: str) -> str:
    return text.replace("%", "%%")


@dataclass
class _Lazy:
    name: str
    module: str
    help: str
    attribute: str
    command: str | None

    def load(self) -> App | Command:
        target = getattr(import_module(self.module), self.attribute)
        if self.command is None:
            assert isinstance(target, App)
            return target
        assert isinstance(target, App)
        return target.commands[self.command]


class App:
    """A group of commands (the whole CLI is one): see the module docstring."""

    def __init__(
        self, *, name: str | None = None, help: str | None = None, version: Callable[[], str] | None = None
    ) -> None:
        self.name = name
        self.help = help or ""
        self.version = version
        self.commands: dict[str, Command] = {}
        self.entries: dict[str, App | Command | _Lazy] = {}
        self.group_callback: Command | None = None

    # declaring

    def command(
        self, name: str | None = None, *, help: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            command = Command(name or function.__name__.strip("_").replace("_", "-"), function, help)
            self.commands[command.name] = command
            self.entries[command.name] = command
            return function

        return register

    def callback(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.group_callback = Command("", function, None)
            return function

        return register

    def add_app(self, app: App, *, name: str, help: str | None = None) -> None:
        if help is not None:
            app.help = help
        self.entries[name] = app

    add_typer = add_app  # the name Typer gives it, so that Typer-style code ports unchanged

    def add_lazy(
        self, name: str, module: str, *, help: str, attribute: str = "app", command: str | None = None
    ) -> None:
        self.entries[name] = _Lazy(name, module, help, attribute, command)

    def resolve(self, name: str) -> App | Command:
        """The sub-command or group called `name`, importing its module if it was registered lazily."""
        entry = self.entries[name]
        if isinstance(entry, _Lazy):
            loaded = entry.load()
            if isinstance(loaded, App) and not loaded.help:
                loaded.help = entry.help
            self.entries[name] = entry = loaded
        return entry

    def summaries(self) -> list[tuple[str, str]]:
        """(name, one-line help) of each sub-command, without importing any lazy one."""
        out = []
        for name, entry in self.entries.items():
            if isinstance(entry, Command):
                out.append((name, entry.summary))
            else:
                out.append((name, entry.help.split("\n\n")[0].replace("\n", " ")))
        return out

    # running

    def __call__(self, args: Sequence[str], *, prog_name: str) -> Any:
        root = Context(command_path=prog_name)
        try:
            return self._run(list(args), root)
        except _HelpRequested as shown:
            sys.stdout.write(shown.text)
            return 0
        finally:
            root.close()

    def _group_parser(self, prog: str) -> tuple[_Parser, list[_Param], str | None]:
        if self.group_callback is not None:
            parser, params, context_name = self.group_callback.parser(prog)
        else:
            parser, params, context_name = _Parser(prog, "", None), [], None
            parser.add_argument_group("Options").add_argument(*HELP_NAMES, action=_Help)
        parser.usage = f"{prog} [OPTIONS] COMMAND [ARGS]..."
        parser.description = self.help or None
        options = parser._action_groups[-1]
        if self.version is not None:
            version: Any = self.version  # argparse's stubs expect the "version" action's str
            options.add_argument("--version", action=_Version, version=version)
        parser.commands = self._commands_help()
        return parser, params, context_name

    def _commands_help(self) -> str:
        rows = self.summaries()
        width = _width()
        left = max(len(name) for name, _ in rows) + 4
        lines = ["", "Commands:"]
        for name, text in rows:
            wrapped = textwrap.wrap(text, max(20, width - left)) or [""]
            lines.append(f"  {name.ljust(left - 2)}{wrapped[0]}")
            lines.extend(" " * left + more for more in wrapped[1:])
        return "\n".join(lines) + "\n"

    def _run(self, args: list[str], ctx: Context) -> Any:
        parser, params, context_name = self._group_parser(ctx.command_path)
        at = _first_positional(parser, args)
        head, rest = args[:at], args[at:]
        namespace = parser.parse_args(_glued(parser, head))
        if not rest:  # no sub-command: show what there is, as a usage error
            raise UsageError("missing command", prog=parser.prog, usage="", help_text=parser.format_help())
        name, rest = rest[0], rest[1:]
        if name not in self.entries:
            raise UsageError(
                f"no such command '{name}'", prog=parser.prog, usage=parser.format_usage().rstrip("\n")
            )
        if self.group_callback is not None:
            _call(self.group_callback, namespace, params, context_name, ctx)
        entry = self.resolve(name)
        child = Context(command_path=f"{ctx.command_path} {name}", parent=ctx)
        if isinstance(entry, App):
            return entry._run(rest, child)
        parser, params, context_name = entry.parser(child.command_path)
        return _call(entry, parser.parse_args(_glued(parser, rest)), params, context_name, child)


def _glued(parser: _Parser, args: list[str]) -> list[str]:
    """`--name -Ann` as `--name=-Ann`: an option that takes a value takes the next word, whatever it is.

    (argparse alone would read a value starting with '-' as another option.)
    """
    takes_value = {s for a in parser._actions if a.nargs != 0 for s in a.option_strings}
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg in takes_value and i + 1 < len(args) and args[i + 1].startswith("-"):
            out.append(f"{arg}={args[i + 1]}" if arg.startswith("--") else f"{arg}{args[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _first_positional(parser: _Parser, args: list[str]) -> int:
    """Where the sub-command's name is among `args`: after the group's own options and their values."""
    takes_value = {s for a in parser._actions if a.nargs != 0 for s in a.option_strings}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return i + 1 if i + 1 < len(args) else len(args)
        if not arg.startswith("-") or arg == "-":
            return i
        i += 2 if arg in takes_value else 1
    return len(args)


def _call(
    command: Command,
    namespace: argparse.Namespace,
    params: list[_Param],
    context_name: str | None,
    ctx: Context,
) -> Any:
    kwargs: dict[str, Any] = {}
    for param in params:
        value = getattr(namespace, param.name)
        kwargs[param.name] = param.convert(value) if param.convert is not None else value
    if context_name is not None:
        kwargs[context_name] = ctx
    return command.function(**kwargs)
