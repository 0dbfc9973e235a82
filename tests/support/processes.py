"""Run one function in many OS processes released at the same moment, and collect what each reports.

Each process is started with 'spawn' (its own interpreter, engine and connections) and waits on a
shared barrier before it acts, so their transactions really overlap.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from typing import Any

import pytest


def run_at_once(
    target: Callable[..., None], url: str, plans: Sequence[Any], *, timeout: float, name: str = "worker"
) -> list[dict[str, Any]]:
    """Call `target(url, n, plan, barrier, results)` in one process per plan; return their reports by n.

    `target` must put one dict with a "worker" key (its n) on `results`; a process that reports
    nothing in time, or exits non-zero, fails the test.
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(plans))
    results = ctx.Queue()
    processes = [
        ctx.Process(target=target, args=(url, n, plan, barrier, results), name=f"{name}-{n}")
        for n, plan in enumerate(plans)
    ]
    for p in processes:
        p.start()
    outcomes: list[dict[str, Any]] = []
    try:
        for _ in processes:
            outcomes.append(results.get(timeout=timeout))
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {len(processes)} {name}s reported within {timeout} s")
    finally:
        for p in processes:
            p.join(timeout=timeout)
            if p.is_alive():
                p.terminate()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return sorted(outcomes, key=lambda o: o["worker"])
