"""``ec demo`` and ``ec mock serve`` given what a new user gets wrong: one ``Error:`` line
naming what to do, exit 1, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ec_core.cli.main import build_cli
from ec_core.plugins import PluginHost


def ec(*args: str) -> Result:
    return CliRunner().invoke(build_cli(PluginHost.load()), list(args))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    return line


@pytest.mark.parametrize("symbol", ["NOPE", "ep"])
def test_demo_on_an_unknown_symbol_lists_the_symbols_there_are(symbol: str) -> None:
    line = one_error_line(ec("demo", "--symbol", symbol))
    assert f"symbol {symbol!r} is not listed by the venue" in line
    assert "EP" in line
    assert "CLE" in line


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("dialect", ["cqg", "json"])
def test_serve_on_a_port_in_use_says_so_and_how_to_pick_another(
    taken_port: int, dialect: str
) -> None:
    line = one_error_line(ec("mock", "serve", "--dialect", dialect, "--port", str(taken_port)))
    assert f"--port: 127.0.0.1:{taken_port} is in use" in line
    assert "--port 0" in line


def test_serve_with_a_certificate_that_does_not_load_names_the_files(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate\n", encoding="utf-8")
    key.write_text("not a key\n", encoding="utf-8")
    result = ec("mock", "serve", "--dialect", "cqg", "--certfile", str(cert), "--keyfile", str(key))
    line = one_error_line(result)
    assert line.startswith("Error: --certfile/--keyfile:")
    assert "cert.pem" in line
    assert "key.pem" in line
