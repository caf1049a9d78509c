"""Running the same thing in several threads at once, and collecting what each got."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(jobs: list[Callable[[], Any]], timeout: float = 60) -> list[Any]:
    """Start every job at the same instant; return each one's result or the exception it raised."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread is still running: a writer is stuck"
    return results
