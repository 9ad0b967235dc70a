"""Real processes for the gateway tests: ``ec gateway``, ``ec run --gateway``, scripts.

Each process' stdout is read by a thread into a queue, so a test waits for a line
(with a deadline) instead of sleeping.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

EC = [sys.executable, "-c", "from ec_core.cli.main import main; main()"]
DEADLINE = 60.0


class Proc:
    """A child process and the lines it printed (stdout and stderr, merged)."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        environment = {**os.environ, **(env or {})}
        environment.pop("EC_SETTINGS", None)
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert self.popen.stdout is not None
        threading.Thread(target=self._read, args=(self.popen.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, deadline: float = DEADLINE) -> str:
        """The first line (from now on) that starts with ``prefix``; fails at the deadline."""
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            try:
                line = self._queue.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise AssertionError(
                    f"no line {prefix!r} within {deadline}s:\n{self.output}"
                ) from None
            if line is None:
                self._queue.put(None)
                raise AssertionError(f"ended before {prefix!r}:\n{self.output}")
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def finish(self, sig: int | None = signal.SIGINT, deadline: float = DEADLINE) -> int:
        """Signal it (``None``: let it end by itself), wait for its end and its output;
        the exit code."""
        if sig is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)
        code = self.popen.wait(timeout=deadline)
        while True:
            line = self._queue.get(timeout=deadline)
            if line is None:
                self._queue.put(None)
                break
            self.lines.append(line)
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=DEADLINE)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=DEADLINE)
