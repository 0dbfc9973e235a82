"""Printing results: one JSON document with --json, readable tables otherwise.

Everything printed is data: stored values can hold '[', ']' or ':name:' (a display name such as
'Eve [/x] Evil'), so no string is ever read as rich markup or emoji codes. No value is ever cut:
see `cli.tables`, which draws tables and records with rich. rich is imported only when a table, a
record, a message or a progress bar is printed: --json output and the parsing of the command line
do without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dialconf.services.views import Page


def _plain(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def emit_json(data: Any) -> None:
    data = [_plain(x) for x in data] if isinstance(data, list) else _plain(data)
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def emit_json_stream(items: Iterable[Any]) -> None:
    """Print one JSON array, writing each item as it comes: a long list never waits in memory."""
    out = sys.stdout
    first = True
    for item in items:
        text = json.dumps(_plain(item), indent=2, default=str).replace("\n", "\n  ")
        out.write(("[\n  " if first else ",\n  ") + text)
        first = False
    out.write("[]\n" if first else "\n]\n")
    out.flush()


def show_record(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """A title, then one `name  value` line per field; long text wraps under its value, nothing is cut."""
    from dialconf.cli import tables

    tables.show_record(title, fields)


def show_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    empty: str = "nothing to show",
    whole: Collection[str] = (),
) -> None:
    """Rows under a header, fitted to the terminal; the columns named in `whole` are never wrapped."""
    from dialconf.cli import tables

    tables.show_table(columns, rows, empty=empty, whole=whole)


def show_batches(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    empty: str = "nothing to show",
    whole: Collection[str] = (),
) -> None:
    """show_table for rows that arrive in batches (a whole list): each batch is printed as it comes."""
    from dialconf.cli import tables

    tables.show_batches(columns, batches, empty=empty, whole=whole)


def show_list(
    result: Page[Any] | Iterable[Sequence[Any]],
    *,
    as_json: bool,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    empty: str,
    whole: Collection[str] = (),
    options: str = "--limit or --all",
) -> None:
    """A list command's output: a page (and a note on stderr when more rows match), or every batch of --all."""
    from dialconf.cli import tables

    if not isinstance(result, Page):
        if as_json:
            emit_json_stream(item for batch in result for item in batch)
        else:
            tables.show_batches(columns, ([row(v) for v in batch] for batch in result), empty=empty, whole=whole)
        return
    page = result
    if as_json:
        emit_json(page.items)
    else:
        show_table(columns, [row(v) for v in page.items], empty=empty, whole=whole)
    note_truncated(page, options=options)


def note_truncated(page: Page[Any], *, options: str = "--limit or --all") -> None:
    """Say on stderr that a list shows only part of what matches: 'showing 100 of 1,001; use ...'.

    A list that stopped counting says so: 'showing 100 of more than 10,000', and for a page deep
    behind --after 'showing 100 after more than 10,000 of more than 10,000'.
    """
    if not page.truncated:
        return
    shown = f"{len(page.items):,}"
    if page.offset_capped:
        shown = f"{len(page.items):,} after more than {page.offset:,}"
    elif page.offset:
        shown = f"{page.offset + 1:,}-{page.offset + len(page.items):,}" if page.items else "none"
    total = f"more than {page.total:,}" if page.total_capped else f"{page.total:,}"
    print(f"showing {shown} of {total}; use {options}", file=sys.stderr)


def say(message: str) -> None:
    from dialconf.cli import tables

    tables.console().print(message)


def confirm(question: str) -> bool:
    """Ask a yes/no question on stderr and read the answer from stdin; anything but y or yes is no.

    stdout carries only the command's output, so the question and the echo of the answer stay off it.
    """
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):  # end of input: the question's line is ended here
        sys.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (and not in --json mode)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from dialconf.cli import tables

    with tables.progress_bar(label) as update:
        yield update
