"""``ec mock serve`` over real loopback and ``ec demo``, each run as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import pytest
from ec_core.model import NewOrder, OrderType, Side
from reaping import reap

HERE = Path(__file__).parent
# `ec` with the test dialect registered from this test suite, not from an entry point.
EC_WITH_TEST_DIALECT = """
import sys
import mockvendor_jsonl_dialect
from ec_core.cli.main import build_cli
from ec_core.plugins import PluginHost

host = PluginHost.load()
host.register(mockvendor_jsonl_dialect, name="test-jsonl")
build_cli(host).main(args=sys.argv[1:], prog_name="ec")
"""


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "PYTHONPATH": str(HERE), "EC_MOCK_PASSWORD": "pw"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            EC_WITH_TEST_DIALECT,
            "mock",
            "serve",
            "--dialect",
            "jsonl",
            "--port",
            "0",
            "--user",
            "alice",
            "--seed",
            "4",
            "--start",  # in session whatever the hour the suite runs (CME halts 16:00-17:00 CT)
            "2024-01-10T15:00:01Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "serving at " not in first:
            process.kill()  # stderr is read to its end below: it must end
            _, err = process.communicate(timeout=30)
            raise AssertionError(first + err)
        yield process, first.rsplit("serving at ", 1)[1].strip()
    finally:
        reap(process)


def _ask(sock: socket.socket, reader: object, request: dict[str, object]) -> object:
    sock.sendall(msgspec.json.encode(request) + b"\n")
    line = reader.readline()  # type: ignore[attr-defined]
    return msgspec.json.decode(line)


def test_serve_binds_loopback_serves_the_venue_and_stops_on_sigint(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = server
    parts = urlsplit(url)
    assert parts.scheme == "tcp"
    assert parts.hostname == "127.0.0.1"
    assert parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert _ask(sock, reader, {"op": "quote", "symbol": "EP"}) == {"error": "not logged on"}
        assert _ask(sock, reader, {"op": "logon", "user": "alice", "password": "no"}) == {
            "ok": False
        }
        assert _ask(sock, reader, {"op": "logon", "user": "alice", "password": "pw"}) == {
            "ok": True
        }
        order = NewOrder(
            account_id="MOCK-1",
            symbol="EP",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.LMT,
            limit_price=Decimal("4000"),
            cl_order_id="over-the-wire",
        )
        report = _ask(sock, reader, {"op": "order", "order": msgspec.to_builtins(order)})
        assert isinstance(report, dict)
        assert (report["cl_order_id"], report["state"]) == ("over-the-wire", "WORKING")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "SIGINT, shutting down" in out
    assert "stopped" in out
    assert "pw" not in out + err


def test_serve_unknown_dialect_lists_installed_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-c", EC_WITH_TEST_DIALECT, "mock", "serve", "--dialect", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )
    assert result.returncode == 2
    assert "unknown dialect 'nope'" in result.stderr
    assert "jsonl" in result.stderr


def test_demo_runs_end_to_end_off_a_terminal() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "placed  LMT BUY",
        "modified",
        "placed and cancelled",
        "bought 1 at market",
        "went flat",
    ):
        assert step in out, out
    assert "ec demo summary" in out
    assert "position +0" in out
    assert "ec demo: done" in out


def test_demo_ids_match_its_table_totals_fit_80_columns_and_money_has_a_currency() -> None:
    env = {**os.environ, "COLUMNS": "80"}
    result = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "demo"],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    logged = set(
        re.findall(
            r"demo-\d+",
            "\n".join(line for line in out.splitlines() if line.startswith("ec demo: ")),
        )
    )
    table = out.split("ec demo summary")[1]
    shown = set(re.findall(r"demo-\d+", table))
    assert shown <= logged, (shown - logged, out)
    totals = next(line for line in out.splitlines() if line.startswith("fills "))
    assert len(totals) <= 80, totals
    assert re.search(r"realized P&L [+-]?\d+\.\d\d USD", totals), totals
    assert re.search(r"commissions \d+\.\d\d USD", totals), totals
    assert all(len(line) <= 80 for line in out.splitlines()), out


def test_demo_help_names_the_default_symbol_it_uses() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "demo", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "default: EP" in " ".join(result.stdout.split())
