"""Tables and records on the terminal, with rich: what `cli.output` prints when there is no --json.

Everything printed is data: stored values can hold '[', ']' or ':name:' (a display name such as
'Eve [/x] Evil'), so no string is ever read as rich markup or emoji codes.

No value is ever cut. A table fits the terminal (80 columns when piped) by wrapping its columns,
except the ones a caller names `whole` (sign-in names, addresses, actions: things people copy),
which keep their full width; when even that cannot fit, the rows are printed one block each.
Importing this module loads rich: `cli.output` imports it only when something is printed this way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

# the narrowest a wrapping column gets (unless its header or values are narrower still)
NARROWEST = 6
GAP = 2  # spaces between two columns
# a row whose cell would wrap onto more lines than this reads better as a block of its own
MOST_LINES = 4


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # the reader of our output (`| head`) has seen enough: `run` answers exit 0, as for JSON
        self.quiet = True
        raise BrokenPipeError


def console() -> Console:
    return _Console(highlight=False, soft_wrap=True, emoji=False, markup=False)


def show_record(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """A title, then one `name  value` line per field; long text wraps under its value, nothing is cut."""
    con = console()
    con.print(Text(title, style="bold"))
    for line in _record_lines(fields, con.width, whole=()):
        con.print(line)


def show_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    empty: str = "nothing to show",
    whole: Collection[str] = (),
) -> None:
    """Rows under a header, fitted to the terminal; the columns named in `whole` are never wrapped."""
    if not rows:
        console().print(empty)
        return
    _print_rows(console(), columns, rows, whole=whole)


def show_batches(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    empty: str = "nothing to show",
    whole: Collection[str] = (),
) -> None:
    """show_table for rows that arrive in batches (a whole list): each batch is printed as it comes."""
    con = console()
    shown = False
    for rows in batches:
        if rows:
            _print_rows(con, columns, rows, whole=whole, header=not shown)
            shown = True
    if not shown:
        con.print(empty)


def _text(value: Any) -> Text:
    """A table cell: literal text, never markup."""
    if value is None:
        return Text("-")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value) or "-")
    return Text(str(value))


def _width(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _print_rows(
    con: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    whole: Collection[str],
    header: bool = True,
) -> None:
    cells = [[_text(v) for v in r] for r in rows]
    widths = _fit(con.width, columns, cells, whole=whole)
    if widths is None:
        _print_blocks(con, columns, cells, whole=whole, first=header)
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        show_header=header,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold",
    )
    for name, width in zip(columns, widths, strict=True):
        table.add_column(Text(name), width=width, overflow="fold")
    for r in cells:
        table.add_row(*r)
    con.print(table)


def _fit(
    width: int, columns: Sequence[str], cells: Sequence[Sequence[Text]], *, whole: Collection[str]
) -> list[int] | None:
    """Column widths that fit `width` with every `whole` column at its full width; None if none do.

    Each wrapping column gets at least NARROWEST; the room left goes to the wrapping columns, first
    so that their values fit whole (those that need the least first), then their headers. None too
    when a value would wrap onto more than MOST_LINES lines.
    """
    values, natural, least = [], [], []
    for i, name in enumerate(columns):
        widest = max((_width(r[i]) for r in cells), default=0)
        # a header wraps between its words before a value wraps
        values.append(max(widest, _longest_word(name)))
        natural.append(max(widest, cell_len(name)))
        least.append(values[i] if name in whole else min(values[i], NARROWEST))
    room = width - _overhead(len(columns))
    if sum(least) > room:
        return None
    widths = list(least)
    spare = room - sum(widths)
    for wanted in (values, natural):
        # the columns closest to what they want first: as many as possible end up not wrapping at all
        for i in sorted(range(len(widths)), key=lambda i: wanted[i] - widths[i]):
            grow = max(min(wanted[i] - widths[i], spare), 0)
            widths[i] += grow
            spare -= grow
    if any(-(-values[i] // max(widths[i], 1)) > MOST_LINES for i in range(len(widths))):
        return None
    return widths


def _overhead(count: int) -> int:
    """Columns of a row that are not values: GAP between two columns (a divider and one padding)."""
    return max(count - 1, 0) * GAP


def _print_blocks(
    con: Console,
    columns: Sequence[str],
    cells: Sequence[Sequence[Text]],
    *,
    whole: Collection[str],
    first: bool,
) -> None:
    """One block of `column  value` lines per row, for rows too wide for any table."""
    for n, r in enumerate(cells):
        if n or not first:
            con.print()
        for line in _record_lines(list(zip(columns, r, strict=True)), con.width, whole=whole):
            con.print(line)


def _record_lines(fields: Sequence[tuple[str, Any]], width: int, *, whole: Collection[str]) -> Iterator[Text]:
    """`name  value` lines, names aligned; a value too long for the line wraps under itself.

    A value with no space in it (an address, a sign-in name, a URL) or named in `whole` is never
    broken: it runs past the edge (a terminal shows the rest on the next line) rather than be cut.
    """
    names = max((cell_len(name) for name, _ in fields), default=0)
    indent = names + GAP
    room = max(width - indent, NARROWEST)
    for name, value in fields:
        text = value if isinstance(value, Text) else _text(value)
        lead = Text(name.ljust(names) + " " * GAP, style="bold")
        if name in whole or _width(text) <= room or not any(c.isspace() for c in text.plain):
            # a line of its own, however long: the terminal shows the rest, nothing is cut
            parts = list(text.split("\n")) or [Text("")]
        else:
            parts = list(text.wrap(console(), room, overflow="fold"))
        for k, part in enumerate(parts):
            line = (lead if k == 0 else Text(" " * indent)) + part
            line.rstrip()
            yield line


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
