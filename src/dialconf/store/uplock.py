"""Which `dialconf up` runs on an embedded SQLite database: a lock file beside it, holding the PID.

`up` holds an exclusive flock on `dialconf.db.up.lock` for its whole life; the kernel releases it
when the process ends however it ends, so a file left behind says nothing by itself: only a held
lock counts, and the PID in the file is read only while someone holds it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialconf.errors import Conflict

LOCK_SUFFIX = ".up.lock"


class UpAlreadyRunning(Conflict):
    def __init__(self, database: Path, pid: int | None) -> None:
        holder = f"another dialconf up (PID {pid})" if pid else "another dialconf up"
        super().__init__(f"{holder} is already running on {database}")
        self.pid = pid


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


@contextmanager
def hold_up_lock(database: Path) -> Iterator[None]:
    """Hold the `up` lock of `database` while the block runs; raise UpAlreadyRunning if another process has it."""
    fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UpAlreadyRunning(database, _read_pid(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # still locked here: nobody reads a PID that is about to be wrong
    finally:
        os.close(fd)  # releases the lock


def up_holder(database: Path) -> int | None:
    """The PID of the `dialconf up` running on `database`, or None when none runs (0 if its PID is unreadable)."""
    try:
        fd = os.open(lock_path(database), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    # the holder writes its PID right after taking the lock: give it a moment if we came in between
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.01)
    return None
