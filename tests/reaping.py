"""Ending a test's child process so that nothing of it outlives the test, passed or failed.

A ``Popen`` dropped while its process runs, or with a pipe still open, warns (ResourceWarning)
when the garbage collector finds it: during whichever later test that is. Under
``filterwarnings = error`` that later, unrelated test fails, not the one that leaked it
(a failed test's traceback holds the ``Popen`` until pytest lets the report go). So every
test that starts a process ends it in a ``finally`` (or a fixture) with :func:`reap`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from typing import Any

__all__ = ["reap", "watchdog"]

REAP_TIMEOUT = 30.0


def _kill(process: subprocess.Popen[Any], *, group: bool) -> None:
    if group:  # its own children too, even when it ended first
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    elif process.poll() is None:
        process.kill()


def watchdog(
    process: subprocess.Popen[Any], timeout: float, *, group: bool = False
) -> threading.Timer:
    """A started timer that kills ``process`` after ``timeout`` seconds: a test blocked
    reading a child that never prints what it waits for fails then, never hangs the suite.
    Cancel it once the wait is over."""
    timer = threading.Timer(timeout, _kill, (process,), {"group": group})
    timer.daemon = True
    timer.start()
    return timer


def reap(process: subprocess.Popen[Any], *, group: bool = False) -> None:
    """Kill ``process`` if it still runs (with ``group``, its whole process group: a child
    started with ``start_new_session``), wait for its end and close its pipes."""
    _kill(process, group=group)
    try:
        process.wait(timeout=REAP_TIMEOUT)
    finally:
        # never communicate(): a grandchild holding the pipe would block it past the kill
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
