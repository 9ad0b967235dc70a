"""ec-mock's pytest fixtures used from a test file the way a user's project uses them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ec_mock.strategy_rig import StrategyRig

USER_TESTS = """
import pytest
from decimal import Decimal
from ec_core.model import NewOrder, OrderType, ReportKind, Side, ExecutionReport, SnapshotComplete

@pytest.mark.anyio
async def test_market_order_fills(mock_session, mock_venue, mock_account):
    mock_venue.step(5)                      # the seeded market makes a book
    async with mock_session.trades.stream(mock_account) as events:
        await mock_session.orders.send(NewOrder(
            account_id=mock_account, symbol="EP", side=Side.BUY, qty=1,
            order_type=OrderType.MKT, cl_order_id="buy-1"))
        async for event in events:
            if isinstance(event, ExecutionReport) and event.kind is ReportKind.FILL:
                break
    positions = await mock_session.trades.positions(mock_account)
    assert [(p.symbol, p.qty) for p in positions] == [("EP", 1)]

def test_exchange_fixture(mock_exchange, mock_clock, mock_account):
    assert mock_exchange.has_account(mock_account)
    assert mock_exchange.instrument("CLE") is not None
    assert mock_exchange.is_open("CLE")

@pytest.mark.anyio
@pytest.mark.ec_fault(reject_next=1)
async def test_fault_marker(mock_session, mock_account, fault_plan):
    assert fault_plan.reject_next == 1
    async with mock_session.trades.stream(mock_account) as events:
        await mock_session.orders.send(NewOrder(
            account_id=mock_account, symbol="EP", side=Side.BUY, qty=1,
            order_type=OrderType.LMT, limit_price=Decimal("4000"), cl_order_id="x"))
        async for event in events:
            if isinstance(event, ExecutionReport):
                assert event.reject_code == "FAULT_INJECTED"
                break

@pytest.mark.anyio
@pytest.mark.ec_fault(drop_acks=1)
async def test_planned_fault_never_fires(mock_session):
    pass
"""

CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


PLAIN_TESTS = """
import sys

def test_nothing_heavy_is_imported_before_a_fixture_is_used():
    assert "ec_mock.pytest_plugin" in sys.modules
    assert "ec_mock.engine" not in sys.modules
    assert "ec_mock.vendor" not in sys.modules
"""

BAD_MARKER_TESTS = """
import pytest

@pytest.mark.ec_fault(dropp_acks=1)
def test_bad_marker(fault_plan):
    pass
"""


def test_user_project_uses_the_fixtures(tmp_path: Path) -> None:
    """One real pytest run in a fresh project: the pytest11 entry point, nothing else."""
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a_plain.py").write_text(PLAIN_TESTS)
    (tmp_path / "test_b_bad_marker.py").write_text(BAD_MARKER_TESTS)
    (tmp_path / "test_strategy.py").write_text(USER_TESTS)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            # the files run in their order (test_a_plain first, before any fixture imports
            # the engine) even where pytest-randomly is installed and would shuffle them
            "-p",
            "no:randomly",
            "-W",
            "error",
            "--strict-markers",
            "-rA",
            "-q",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 1, out  # the two tests meant to error do
    assert "5 passed, 2 errors" in out, out
    assert "PASSED test_a_plain.py::test_nothing_heavy_is_imported_before_a_fixture_is_used" in out
    for name in ("test_market_order_fills", "test_exchange_fixture", "test_fault_marker"):
        assert f"PASSED test_strategy.py::{name}" in out, out
    assert "ERROR test_strategy.py::test_planned_fault_never_fires" in out, out
    assert "planned but never fired: drop (0 of 1)" in out, out
    assert "ERROR test_b_bad_marker.py::test_bad_marker" in out, out
    assert "dropp_acks" in out, out


DOCS_EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "docs"
    / "tutorials"
    / "strategy_tests"
    / "test_my_strategy.py"
)


def test_a_strict_config_project_tests_a_strategy_with_strategy_rig(tmp_path: Path) -> None:
    """The docs page's example, in a fresh project whose pytest settings set
    ``anyio_backend`` and run under ``--strict-config``: the plugin declares the option,
    its fixture reads it (one run per test, no ``[asyncio]`` parametrization)."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nanyio_backend = "asyncio"\n'
    )
    (tmp_path / "test_my_strategy.py").write_text(DOCS_EXAMPLE.read_text(encoding="utf-8"))
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error",
            "--strict-config", "--strict-markers", "-rA", "-q", str(tmp_path),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "2 passed" in out, out
    assert "PASSED test_my_strategy.py::test_entry_fills_then_take_profit_goes_flat\n" in out, out
    assert "Unknown config option" not in out


def test_strategy_rig_ticks_name_a_bad_symbol_or_price(strategy_rig: StrategyRig) -> None:
    quote = strategy_rig.quote("CLE", 1.5, "70.20", "70.21")
    assert (quote.bid, quote.ask, quote.ts_ns) == (7020, 7021, strategy_rig.at(1.5))
    with pytest.raises(ValueError, match=re.escape("bid: unknown symbol 'NOPE'")):
        strategy_rig.quote("NOPE", 0, "1", "2")
    with pytest.raises(ValueError, match=re.escape("70.005")):
        strategy_rig.trade("CLE", 0, "70.005")
