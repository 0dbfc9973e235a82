"""The delivery loop rides out a database it cannot connect to, as it rides out one that went away.

A failed connect is a DatabaseUnavailable (so the CLI says so in one line); the worker loop must treat
it as the outage it is, report it and try again, not stop.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dialconf.mail.worker import DeliveryWorker
from tests.conftest import make_uow
from tests.integration.test_mail_delivery_rules import FakeTransport


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://dialer:pw@127.0.0.1:1/dialconf", id="postgresql-refused"),
        pytest.param("sqlite:///{tmp}/no/such/folder/dialconf.db", id="sqlite-missing-folder"),
    ],
)
def test_the_worker_reports_a_database_it_cannot_reach_and_keeps_trying(tmp_path: Path, url: str) -> None:
    stop = threading.Event()
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:  # a second outage report: it survived the first and tried again
            stop.set()

    transport = FakeTransport()
    loop = DeliveryWorker(make_uow(url.format(tmp=tmp_path)), transport, poll_interval=0.01, report=report)
    runner = threading.Thread(target=loop.run, args=(stop,))
    runner.start()
    runner.join(timeout=60)
    stop.set()
    runner.join(timeout=5)

    assert not runner.is_alive()
    assert len(lines) == 2, lines
    assert all(line.startswith("database unavailable: cannot ") for line in lines), lines
    assert "pw@" not in " ".join(lines)
    assert transport.sent == [] and transport.closed >= 1
