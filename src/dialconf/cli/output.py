"""Printing results: one JSON document with --json, readable tables otherwise.

Everything printed is data: stored values can hold '[', ']' or ':name:' (a display name such as
'Eve [/x] Evil'), so no string is ever read as rich markup or emoji codes.

rich is imported only when a table, a record, a message or a progress bar is printed: --json
output and the parsing of the command line do without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def _plain(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def emit_json(data: Any) -> None:
    data = [_plain(x) for x in data] if isinstance(data, list) else _plain(data)
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, emoji=False, markup=False)


def show_record(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in fields:
        table.add_row(name, _text(value))
    console().print(table)


def show_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "nothing to show"
) -> None:
    if not rows:
        console().print(empty)
        return
    from rich.table import Table

    table = Table(*columns, header_style="bold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    console().print(table)


def say(message: str) -> None:
    console().print(message)


def _text(value: Any) -> Text:
    """A table cell: literal text, never markup."""
    from rich.text import Text

    if value is None:
        return Text("-")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value) or "-")
    return Text(str(value))


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (and not in --json mode)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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
