"""Long user actions (a contact import, a large bulk action) run in a daemon thread of the web process.

One runner for all of them: the thread gets its own app context and session, and a test (or a
shutdown) can wait for a job by its name and id.
"""

from __future__ import annotations

import threading
from typing import Callable

from flask import Flask, current_app

from app.extensions import db

_THREADS: dict[tuple[str, int], threading.Thread] = {}


def _main(app: Flask, work: Callable[[int], None], job_id: int) -> None:
    with app.app_context():
        try:
            work(job_id)
        finally:
            db.session.remove()


def start(kind: str, work: Callable[[int], None], job_id: int) -> threading.Thread:
    """Run ``work(job_id)`` in a daemon thread with its own app context."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_main, args=(app, work, job_id), name=f"{kind}-{job_id}", daemon=True)
    _THREADS[(kind, job_id)] = thread
    thread.start()
    return thread


def wait(kind: str, job_id: int, timeout: float) -> None:
    """Wait for a job started by ``start`` (tests, shutdown)."""
    thread = _THREADS.pop((kind, job_id), None)
    if thread is not None:
        thread.join(timeout)
