"""Lists at 80 columns: identifiers stay whole, other columns wrap, a capped list says so, --all gives every row."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialconf.cli.output import note_truncated, show_table
from dialconf.domain.roles import Actor
from dialconf.services import audit, outbox, users
from dialconf.services.views import Page
from tests.conftest import Cli, seed_tenant
from tests.e2e.conftest import ADA, GRACE, MAIN_TOLL, TP, TP_ID, World

# sign-in names of 60 characters: longer than any column an 80-column table could give them
LONG = [f"{name}.{'x' * (47 - len(name))}@contoso.com" for name in ("ada", "grace", "katherine")]
SHORT = "dorothy@contoso.com"


def _enable(cli: Cli, upn: str, name: str = "Some Rather Long Display Name Here") -> None:
    cli.ok("user", "enable", upn, "--tenant", "contoso", "--email", upn, "--name", name)


@pytest.fixture
def long_names(sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "80")
    seed_tenant(sqlite_cli)
    for upn in LONG:
        _enable(sqlite_cli, upn)
        sqlite_cli.ok("user", "reset-conference-id", upn)
    return sqlite_cli


def _lines_holding(out: str, value: str) -> list[str]:
    return [line for line in out.splitlines() if value in line]


def test_user_list_at_80_columns_shows_every_long_upn_whole(long_names: Cli) -> None:
    result = long_names("user", "list", "--tenant", "contoso")
    assert result.code == 0, result.err
    assert "…" not in result.out
    for upn in LONG:
        assert _lines_holding(result.out, upn), f"{upn} is not whole on one line:\n{result.out}"
    # the other values are all there too, wrapped or not: the display name's words
    assert result.out.count("Rather") == len(LONG)


def test_mail_list_at_80_columns_shows_every_long_address_whole(long_names: Cli) -> None:
    result = long_names("mail", "list")
    assert result.code == 0, result.err
    assert "…" not in result.out
    for upn in LONG:
        # a welcome mail and a conference ID mail for each
        assert len(_lines_holding(result.out, upn)) == 2, result.out


def test_audit_list_at_80_columns_shows_every_action_and_target_whole(long_names: Cli) -> None:
    result = long_names("audit", "list")
    assert result.code == 0, result.err
    assert "…" not in result.out
    assert len(_lines_holding(result.out, "user.reset_conference_id")) == len(LONG)
    assert len(_lines_holding(result.out, "user.enable")) == len(LONG)
    for upn in LONG:
        assert _lines_holding(result.out, upn), result.out


def test_a_table_that_can_fit_80_columns_keeps_to_them_and_wraps_the_other_columns(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    seed_tenant(sqlite_cli)
    _enable(sqlite_cli, SHORT, name="Dorothy Johnson Vaughan of Langley")
    result = sqlite_cli("user", "list", "--tenant", "contoso")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = [line for line in lines if line.startswith("upn")]
    assert header and header[0].split()[:4] == ["upn", "name", "provider", "enabled"], result.out
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert len(_lines_holding(result.out, SHORT)) == 1
    # the long display name wraps inside its column instead of being cut
    start = lines.index(header[0]) + 2
    name_column = header[0].index("name")
    rows = lines[start:]
    assert len(rows) > 1
    words = " ".join(line[name_column:].split("  ")[0] for line in rows).split()
    assert words == ["Dorothy", "Johnson", "Vaughan", "of", "Langley"]


def test_show_table_never_cuts_a_value_even_when_no_table_fits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    huge = "a" * 70 + "@contoso.com"
    show_table(["upn", "note"], [[huge, "word " * 30]], whole={"upn"})
    out = capsys.readouterr().out
    assert _lines_holding(out, huge) and "…" not in out
    assert out.count("word") == 30


def _import(cli: Cli, tmp_path: Path, count: int) -> list[str]:
    upns = [f"user{i:04d}@contoso.com" for i in range(count)]
    path = tmp_path / "many.csv"
    path.write_text(
        "upn,email,name\n" + "".join(f"{u},{u},User {i}\n" for i, u in enumerate(upns)), encoding="utf-8"
    )
    cli.ok("user", "import", str(path), "--tenant", "contoso")
    return upns


def test_a_capped_list_says_on_stderr_how_many_it_shows_of_how_many(cli: Cli, tmp_path: Path) -> None:
    seed_tenant(cli)
    upns = _import(cli, tmp_path, 101)

    capped = cli("user", "list", "--tenant", "contoso", "--json")
    assert capped.code == 0
    assert [u["upn"] for u in capped.json()] == upns[:100]
    assert capped.err == "showing 100 of 101; use --limit or --all\n"

    text = cli("user", "list", "--tenant", "contoso")
    assert text.err == "showing 100 of 101; use --limit or --all\n"
    assert upns[99] in text.out and upns[100] not in text.out

    paged = cli("user", "list", "--tenant", "contoso", "--limit", "10", "--offset", "20")
    assert paged.err == "showing 21-30 of 101; use --limit, --offset or --all\n"

    whole = cli("user", "list", "--tenant", "contoso", "--limit", "101", "--json")
    assert whole.err == "" and len(whole.json()) == 101

    mail = cli("mail", "list", "--limit", "100", "--json")
    assert len(mail.json()) == 100 and mail.err == "showing 100 of 101; use --limit or --all\n"
    events = cli("audit", "list", "--limit", "3")
    assert events.err.startswith("showing 3 of ") and events.err.endswith("; use --limit or --all\n")


def test_all_prints_every_row_as_json_array_and_as_table(cli: Cli, tmp_path: Path) -> None:
    seed_tenant(cli)
    upns = _import(cli, tmp_path, 101)

    every = cli("user", "list", "--tenant", "contoso", "--all", "--json")
    assert every.code == 0 and every.err == ""
    assert [u["upn"] for u in every.json()] == upns
    table = cli("user", "list", "--tenant", "contoso", "--all")
    assert all(_lines_holding(table.out, u) for u in upns)

    mail = cli("mail", "list", "--all", "--json")
    assert sorted(m["to"] for m in mail.json()) == upns and mail.err == ""
    events = cli("audit", "list", "--all", "--json").json()
    assert sum(e["action"] == "user.enable" for e in events) == 101
    assert cli("mail", "list", "--status", "failed", "--all", "--json").json() == []


def test_thousands_are_separated_in_the_capped_list_note(capsys: pytest.CaptureFixture[str]) -> None:
    note_truncated(Page(items=list(range(100)), total=1001))
    assert capsys.readouterr().err == "showing 100 of 1,001; use --limit or --all\n"


def test_a_list_that_stopped_counting_says_more_than_the_cap(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_tenant(cli)
    upns = _import(cli, tmp_path, 12)
    operator = Actor.operator()
    first = users.list_users(cli.uow(), tenant="contoso", actor=operator, limit=3, count_cap=5)
    assert (first.total, first.total_capped, first.truncated) == (5, True, True)
    note_truncated(first)
    assert capsys.readouterr().err == "showing 3 of more than 5; use --limit or --all\n"
    deep = users.list_users(cli.uow(), tenant="contoso", actor=operator, limit=3, after=upns[7], count_cap=5)
    assert [v.upn for v in deep] == upns[8:11] and deep.offset_capped and deep.truncated
    note_truncated(deep, options="--limit, --after or --all")
    assert capsys.readouterr().err == "showing 3 after more than 5 of more than 9; use --limit, --after or --all\n"
    last = users.list_users(cli.uow(), tenant="contoso", actor=operator, limit=3, after=upns[9], count_cap=5)
    assert [v.upn for v in last] == upns[10:] and last.offset_capped and not last.truncated


def test_every_row_is_read_in_keyset_batches_without_gaps_or_repeats(cli: Cli, tmp_path: Path) -> None:
    seed_tenant(cli)
    upns = _import(cli, tmp_path, 23)
    operator = Actor.operator()
    batches = list(users.iter_users(cli.uow(), tenant="contoso", actor=operator, batch=5))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [v.upn for b in batches for v in b] == upns
    assert [v.upn for b in users.iter_users(cli.uow(), tenant="contoso", actor=operator, offset=20)
            for v in b] == upns[20:]  # fmt: skip

    mail = [v.id for b in outbox.iter_mail(cli.uow(), actor=operator, batch=4) for v in b]
    assert mail == [v.id for v in outbox.list_mail(cli.uow(), actor=operator, limit=1000)]
    assert len(mail) == 23
    events = [v.id for b in audit.iter_audit(cli.uow(), actor=operator, batch=4) for v in b]
    assert events == [v.id for v in audit.list_audit(cli.uow(), actor=operator, limit=1000)]


def test_user_export_takes_json_as_an_array_of_rows_or_a_summary_of_the_file_written(
    world: World, tmp_path: Path
) -> None:
    rows = world.cli.ok("user", "export", "--tenant", "contoso")
    assert [r["upn"] for r in rows] == [ADA, GRACE, TP]
    assert list(rows[0]) == ["upn", "email", "name", "country", "provider", "toll_number",
                             "toll_free_number", "conference_id"]  # fmt: skip
    ada = rows[0]
    assert ada["name"] == "Ada Lovelace" and ada["toll_number"] == MAIN_TOLL  # as stored: no leading '
    assert ada["conference_id"] == world.facts["ada_id"] and rows[2]["conference_id"] == TP_ID

    path = tmp_path / "users.csv"
    summary = world.cli.ok("user", "export", "--tenant", "contoso", str(path))
    assert summary == {"path": str(path), "rows": 3}
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("upn,email,name")
