"""``ec mock serve --dialect cqg`` as a subprocess: given credentials, generated ones, Ctrl-C."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from ssl import SSLContext

import trustme
from ec_cqg.protocol.codec import decode_server
from ec_cqg.protocol.pb import ClientMsg
from mock_serve import EC, serve_subprocess
from websockets.sync.client import connect

_GENERATED = re.compile(r"user '([^']+)' password '([^']+)'")


def _env(password: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("EC_MOCK_PASSWORD", None)
    if password is not None:
        env["EC_MOCK_PASSWORD"] = password
    return env


def _refused(*args: str, password: str | None = None) -> str:
    """Run ``ec mock serve`` expecting it to refuse to start; its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", EC, "mock", "serve", "--dialect", "cqg", "--port", "0", *args],
        capture_output=True,
        text=True,
        env=_env(password),
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "serving at" not in done.stdout
    return done.stderr


def _serve(
    *args: str, password: str | None = None
) -> AbstractContextManager[tuple[list[str], str]]:
    return serve_subprocess("--dialect", "cqg", *args, password=password)


def _logon_code(url: str, user: str, password: str, ssl: SSLContext | None = None) -> int:
    msg = ClientMsg()
    msg.logon.user_name = user
    msg.logon.password = password
    msg.logon.client_app_id = "WebApiTest"
    msg.logon.client_version = "cli-test"
    with connect(url, open_timeout=10, ssl=ssl) as ws:
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


def test_serve_refuses_a_user_without_a_password() -> None:
    stderr = _refused("--user", "alice", "--no-market")
    assert "needs a non-empty password" in stderr


def test_serve_refuses_an_empty_password() -> None:
    stderr = _refused("--user", "alice", "--no-market", password="")
    assert "needs a non-empty password" in stderr


def test_serve_refuses_a_public_host_in_clear_text() -> None:
    stderr = _refused("--host", "0.0.0.0", "--no-market")
    assert "beyond loopback" in stderr
    assert "--certfile" in stderr
    assert "--insecure-public" in stderr


def test_serve_with_tls_serves_wss_that_a_verifying_client_logs_on_to(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile = tmp_path / "server.pem", tmp_path / "server.key"
    cert.private_key_pem.write_to_path(str(keyfile))
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for pem in cert.cert_chain_pems[1:]:
        with certfile.open("ab") as out:
            out.write(pem.bytes())
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    args = ("--certfile", str(certfile), "--keyfile", str(keyfile), "--no-market")
    with _serve("--user", "alice", *args, password="pw-1") as (_lines, url):
        assert url.startswith("wss://127.0.0.1:")
        assert _logon_code(url, "alice", "pw-1", ssl=client_ssl) == 0
        assert _logon_code(url, "alice", "", ssl=client_ssl) == 101
