"""The command line itself: a cheap start, help for every command, --version and usage errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import import_module
from importlib.metadata import version

import pytest

from dialconf.cli.app import REGISTRY, app, run
from dialconf.cli.framework import App, Command
from tests.conftest import TEST_KEY, Cli, seed_tenant

HEAVY = ("sqlalchemy", "jinja2", "aiosmtpd", "pydantic", "rich", "typer", "alembic", "psycopg")


def test_importing_the_cli_loads_no_database_mail_template_or_output_library() -> None:
    probe = (
        "import sys\n"
        "import dialconf.cli.app\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('dialconf.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    heavy, ours = done.stdout.splitlines()
    assert heavy == "[]", f"import dialconf.cli.app pulled in {heavy}"
    loaded = eval(ours)  # a list of module names printed by the probe above
    assert not [m for m in loaded if m.split(".")[1] in ("services", "store", "mail")], loaded
    assert not [m for m in loaded if m.removeprefix("dialconf.cli.") in REGISTRY], loaded


def test_help_of_a_sub_command_loads_no_database_or_mail_library() -> None:
    probe = (
        "import sys\n"
        "from dialconf.cli.app import run\n"
        "codes = [run(['user', '--help']), run(['user', 'enable', '--help']), run(['up', '--help'])]\n"
        f"print(codes, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[0, 0, 0] []"


@pytest.mark.parametrize(
    "args",
    [
        ["tenant", "list", "--json"],
        ["user", "show", "ada@contoso.com", "--json"],
        ["user", "show", "ada@contoso.com"],
    ],
    ids=["tenant-list", "user-show-json", "user-show-table"],
)
def test_a_command_that_sends_no_mail_loads_no_mail_template_migration_or_smtp_library(
    sqlite_cli: Cli, args: list[str]
) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(
        "user",
        "enable",
        "ada@contoso.com",
        "--tenant",
        "contoso",
        "--email",
        "ada@contoso.com",
        "--name",
        "Ada",
    )
    probe = (
        "import sys\n"
        "from dialconf.cli.app import run\n"
        f"code = run({args!r})\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'jinja2', 'alembic', 'aiosmtpd', 'typer'}),"
        " file=sys.stderr)\n"
    )
    env = {**os.environ, "DIALCONF_DATABASE_URL": sqlite_cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert "ada@contoso.com" in done.stdout or "contoso" in done.stdout
    assert done.stderr.splitlines()[-1] == "0 []", done.stderr


def _commands() -> list[tuple[str, ...]]:
    """Every group and command of the CLI, as the words that name it."""
    paths: list[tuple[str, ...]] = [()]
    for name in REGISTRY:
        entry = app.resolve(name)
        paths.append((name,))
        if isinstance(entry, App):
            paths += [(name, command) for command in entry.commands]
    return paths


COMMANDS = _commands()


def _described(help_text: str) -> list[str]:
    """The options and arguments listed in a help text that have no description."""
    lines = help_text.splitlines()
    missing = []
    for i, line in enumerate(lines):
        if not re.match(r"^  \S", line) or line.startswith("  dialconf"):
            continue
        entry = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        assert entry is not None
        follows = i + 1 < len(lines) and re.match(r"^\s{6,}\S", lines[i + 1]) is not None
        if entry.group(2) is None and not follows:
            missing.append(entry.group(1))
    return missing


@pytest.mark.parametrize("words", COMMANDS, ids=lambda words: " ".join(words) or "dialconf")
@pytest.mark.parametrize("columns", ["80", "200"])
def test_every_help_exits_0_shows_no_bool_metavar_and_describes_every_option(
    words: tuple[str, ...], columns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert run([*words, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: {' '.join(['dialconf', *words])} [OPTIONS]"), out
    assert "<bool>" not in out and "<str>" not in out and "<int>" not in out, out
    options = out.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    assert "-h, --help" in options
    assert _described(options) == [], out


def test_every_option_of_every_command_has_a_help_text() -> None:
    for words in COMMANDS:
        if len(words) == 0 or (isinstance(app.resolve(words[0]), App) and len(words) == 1):
            continue
        group = app.resolve(words[0])
        command = group.commands[words[1]] if isinstance(group, App) else group
        assert isinstance(command, Command)
        parser, _, _ = command.parser("dialconf " + " ".join(words))
        bare = [a.option_strings for a in parser._actions if a.option_strings and not (a.help or "").strip()]
        notes_only = [a.option_strings for a in parser._actions if (a.help or "").startswith("[")]
        assert bare == [] and notes_only == [], f"dialconf {' '.join(words)}: {bare + notes_only}"


def test_the_top_level_help_agrees_with_the_modules_it_does_not_import() -> None:
    for name, (module, help_text, command) in REGISTRY.items():
        loaded = import_module(module)
        if command is None:
            assert (name, help_text) == (loaded.NAME, loaded.HELP)
        else:
            assert loaded.app.commands[command].summary == help_text


def test_the_import_help_lists_every_csv_column(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dialconf.services.importing import COLUMNS, REQUIRED

    monkeypatch.setenv("COLUMNS", "80")
    assert run(["user", "import", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for column in COLUMNS:
        assert re.search(rf"\b{column}\b", out), column
    assert "Columns: " + ", ".join(REQUIRED) + " (required)" in out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"dialconf {version('dialconf')}\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["user", "enable", "ada@contoso.com", "--email", "a@contoso.com", "--name", "Ada"],
            ["dialconf user enable", "--tenant"],
        ),
        (["mail", "list", "--limit", "0"], ["dialconf mail list", "--limit", "1<=x<=100000"]),
        (
            ["audit", "list", "--limit", "lots"],
            ["dialconf audit list", "--limit", "'lots' is not an integer"],
        ),
        (["tenant", "create", "contoso", "--domian", "contoso.com"], ["dialconf tenant create", "--domian"]),
        (["tenant", "show", "contoso", "extra"], ["dialconf tenant show", "extra"]),
        (["tenant", "frobnicate"], ["dialconf tenant", "frobnicate"]),
        (["--as"], ["dialconf", "--as"]),
        (["user", "--json"], ["dialconf user", "--json"]),
    ],
    ids=[
        "missing-option",
        "out-of-range",
        "not-a-number",
        "unknown-option",
        "extra-argument",
        "unknown-command",
        "missing-value",
        "command-option-given-to-group",
    ],
)
def test_a_usage_error_exits_2_naming_the_command_on_stderr(
    args: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Usage: "), captured.err
    for word in words:
        assert word in captured.err, (word, captured.err)
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("words", [(), ("user",), ("tenant",)], ids=["dialconf", "user", "tenant"])
def test_a_group_without_a_sub_command_shows_its_help_and_exits_2(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(list(words)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Usage: {' '.join(['dialconf', *words])} [OPTIONS] COMMAND") and "Commands:" in err


def test_on_off_pairs_repeatable_options_and_short_names_parse_as_declared() -> None:
    group = app.resolve("user")
    assert isinstance(group, App)
    parser, _, _ = group.commands["disable"].parser("dialconf user disable")
    assert parser.parse_args(["ada@contoso.com"]).send_email is None
    assert parser.parse_args(["ada@contoso.com", "--email"]).send_email is True
    assert parser.parse_args(["ada@contoso.com", "--no-email"]).send_email is False
    parser, _, _ = group.commands["set-acp"].parser("dialconf user set-acp")
    parsed = parser.parse_args(
        [
            "u",
            "--provider-name",
            "P",
            "--toll-number",
            "+1",
            "--participant-passcode",
            "1234",
            "--toll-free-number",
            "+2",
            "--toll-free-number=+3",
        ]
    )
    assert parsed.toll_free_number == ["+2", "+3"]
    parser, _, _ = group.commands["list"].parser("dialconf user list")
    parsed = parser.parse_args(["-t", "contoso"])
    assert (parsed.tenant, parsed.limit, parsed.offset, parsed.search) == ("contoso", 100, 0, None)


def test_an_option_takes_the_next_word_as_its_value_even_when_it_starts_with_a_dash(
    sqlite_cli: Cli,
) -> None:
    seed_tenant(sqlite_cli)
    enabled = sqlite_cli.ok(
        "user",
        "enable",
        "ann@contoso.com",
        "--tenant",
        "contoso",
        "--email",
        "ann@contoso.com",
        "--name",
        "-Ann",
    )
    assert enabled["display_name"] == "-Ann"
    assert [u["upn"] for u in sqlite_cli.ok("user", "list", "-t", "contoso", "--search", "-Ann")] == [
        "ann@contoso.com"
    ]
