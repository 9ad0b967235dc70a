"""``ec mock serve`` as a real subprocess for the tests that need one: started, read up to
the line that says it is ready, stopped with Ctrl-C (SIGINT) and checked to exit cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from reaping import reap, watchdog

__all__ = ["EC", "serve_process", "serve_subprocess"]

READY_TIMEOUT = 60.0

EC = """
import sys
from ec_core.cli.main import build_cli
from ec_core.plugins import PluginHost

build_cli(PluginHost.load()).main(args=sys.argv[1:], prog_name="ec")
"""


@contextmanager
def serve_subprocess(
    *args: str, password: str | None = None, ready: str = "serving at "
) -> Iterator[tuple[list[str], str]]:
    """``ec mock serve --port 0 ARGS``: its output lines up to the first holding ``ready``,
    and its URL. ``password`` goes in ``EC_MOCK_PASSWORD`` (never on the command line)."""
    with serve_process(*args, password=password, ready=ready) as (_, lines, url):
        yield lines, url


@contextmanager
def serve_process(
    *args: str, password: str | None = None, ready: str = "serving at "
) -> Iterator[tuple[subprocess.Popen[str], list[str], str]]:
    """:func:`serve_subprocess` with its process too, for a test that signals the venue
    (SIGSTOP and SIGCONT to hold its answers)."""
    env = dict(os.environ)
    env.pop("EC_MOCK_PASSWORD", None)
    if password is not None:
        env["EC_MOCK_PASSWORD"] = password
    process = subprocess.Popen(
        [sys.executable, "-c", EC, "mock", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # a server that never says ``ready`` is killed: the test fails instead of hanging the suite
    guard = watchdog(process, READY_TIMEOUT)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or ready not in lines[-1]:
            line = process.stdout.readline()
            if not line:  # it ended (or the watchdog ended it): say what it printed
                _, err = process.communicate(timeout=30)
                raise AssertionError(f"no {ready!r} from ec mock serve:\n{''.join(lines)}{err}")
            lines.append(line)
        guard.cancel()
        (url,) = [
            line.rsplit("serving at ", 1)[1].strip() for line in lines if "serving at" in line
        ]
        yield process, lines, url
        if hasattr(signal, "SIGCONT"):  # a test that held it (SIGSTOP) may have failed
            process.send_signal(signal.SIGCONT)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert "stopped" in out, out + err
        assert process.returncode == 0, err
    finally:
        guard.cancel()
        reap(process)  # a failed test's process too: see reaping
