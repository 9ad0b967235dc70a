"""``ec mock serve --dialect cqg`` as a subprocess: given credentials, generated ones, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ec_cqg.protocol.codec import decode_server
from ec_cqg.protocol.pb import ClientMsg
from websockets.sync.client import connect

EC = """
import sys
from ec_core.cli.main import build_cli
from ec_core.plugins import PluginHost

build_cli(PluginHost.load()).main(args=sys.argv[1:], prog_name="ec")
"""
_GENERATED = re.compile(r"user '([^']+)' password '([^']+)'")


@contextmanager
def _serve(*args: str, password: str | None = None) -> Iterator[tuple[list[str], str]]:
    env = dict(os.environ)
    env.pop("EC_MOCK_PASSWORD", None)
    if password is not None:
        env["EC_MOCK_PASSWORD"] = password
    process = subprocess.Popen(
        [sys.executable, "-c", EC, "mock", "serve", "--dialect", "cqg", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "serving at " not in lines[-1]:
            line = process.stdout.readline()
            assert line, "".join(lines) + (process.stderr.read() if process.stderr else "")
            lines.append(line)
        yield lines, lines[-1].rsplit("serving at ", 1)[1].strip()
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=20)
        assert "stopped" in out
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _logon_code(url: str, user: str, password: str) -> int:
    msg = ClientMsg()
    msg.logon.user_name = user
    msg.logon.password = password
    msg.logon.client_app_id = "WebApiTest"
    msg.logon.client_version = "cli-test"
    with connect(url, open_timeout=10) as ws:
        ws.send(msg.SerializeToString())
        frame = ws.recv(timeout=10)
        assert isinstance(frame, bytes)
        return decode_server(frame, strict=True).logon_result.result_code


def test_serve_accepts_the_given_credentials_and_refuses_others() -> None:
    with _serve("--user", "alice", "--no-market", password="pw-1") as (lines, url):
        assert url.startswith("ws://127.0.0.1:")
        assert not any("password" in line for line in lines)  # nothing generated, no echo
        assert _logon_code(url, "alice", "pw-1") == 0
        assert _logon_code(url, "alice", "pw-2") == 101
        assert _logon_code(url, "bob", "pw-1") == 101


def test_serve_without_user_prints_generated_credentials() -> None:
    with _serve("--no-market") as (lines, url):
        found = [m for m in map(_GENERATED.search, lines) if m]
        assert found, lines
        user, password = found[0].groups()
        assert _logon_code(url, user, password) == 0
        assert _logon_code(url, user, password + "x") == 101
