"""pytest fixtures of ec-mock (entry point ``pytest11``). Inert until a fixture is used.

Installing ec-mock gives every project these fixtures; nothing is imported from
the engine until a test asks for one::

    import pytest
    from ec_core.model import NewOrder, OrderType, Side

    @pytest.mark.anyio
    async def test_buy_fills(mock_session, mock_venue, mock_account):
        mock_venue.step(10)                      # let the simulated market trade
        async with mock_session.trades.stream(mock_account) as events:
            await mock_session.orders.send(NewOrder(
                account_id=mock_account, symbol="EP", side=Side.BUY, qty=1,
                order_type=OrderType.MKT))
            ...

Fixtures (function scope):

``mock_clock``       a :class:`~ec_core.clock.ManualClock` at a time every built-in
                     contract trades; time moves only when told.
``mock_instruments`` the instruments listed (built-in set; override it in a conftest).
``mock_exchange``    the matching engine on that clock, with ``mock_account`` open.
``mock_venue``       a :class:`~ec_mock.vendor.MockVenue` around it: ``step(n)`` runs the
                     seeded market, ``advance(ns)`` moves time, ``restart(...)``.
``mock_account``     the account id the fixtures open (``"TEST-1"``).
``fault_plan``       the :class:`~ec_mock.faults.FaultPlan` of the ``ec_fault`` marker, or None.
``mock_session``     (async) a logged-on session of the ``mock`` vendor on ``mock_venue``,
                     with ``fault_plan`` applied to what it sends and receives.
``strategy_rig``     a :class:`~ec_mock.strategy_rig.StrategyRig`: ticks from decimal
                     prices, and ``await strategy_rig.run(strategy, ticks)`` running an
                     ``OpStrategy`` on the mock venue (``ec replay`` as a function).

The plugin also registers the ``anyio_backend`` ini option (``anyio_backend =
"asyncio"`` in a project's pytest settings is then valid under ``--strict-config``)
and an ``anyio_backend`` fixture that reads it; a project's own fixture still wins.

Marker ``@pytest.mark.ec_fault(**fields)`` builds the fault plan from FaultPlan's fields.

Teardown checks make a passing test mean something: an exception raised inside
a venue callback fails the test (:class:`~ec_mock.vendor.VenueError`), and so
does a fault the marker asked for that never fired.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ec_core.clock import ManualClock
    from ec_core.model import Instrument

    from ec_mock.engine import Exchange
    from ec_mock.faults import FaultPlan
    from ec_mock.strategy_rig import StrategyRig
    from ec_mock.vendor import MockSession, MockVenue

MARKER = "ec_fault"
DEFAULT_TEST_ACCOUNT = "TEST-1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "anyio_backend",
        "backend of @pytest.mark.anyio tests (ec supports asyncio)",
        default="asyncio",
    )


_BACKEND_PLUGIN = "ec_mock.anyio_backend"


def _anyio_backend(pytestconfig: pytest.Config) -> str:
    """The ``anyio_backend`` ini option (default ``asyncio``: ec supports asyncio only)."""
    return str(pytestconfig.getini("anyio_backend"))


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after every entry point, so this anyio_backend fixture wins over
    # anyio's own (which runs every installed backend); a conftest fixture still wins.
    if not config.pluginmanager.has_plugin(_BACKEND_PLUGIN):
        plugin = types.ModuleType(_BACKEND_PLUGIN)
        plugin.anyio_backend = pytest.fixture(scope="session", name="anyio_backend")(  # type: ignore[attr-defined]
            _anyio_backend
        )
        config.pluginmanager.register(plugin, _BACKEND_PLUGIN)
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**fields): fault plan for ec-mock's mock_session fixture"
        " (fields of ec_mock.faults.FaultPlan, e.g. drop_acks=1)",
    )


@pytest.fixture
def mock_clock() -> ManualClock:
    """A clock that moves only when the test (or the venue's ``step``) moves it."""
    from ec_core.clock import ManualClock

    from ec_mock.vendor.venue import SIM_START_NS

    return ManualClock(SIM_START_NS)


@pytest.fixture
def mock_instruments() -> Sequence[Instrument]:
    """The listed instruments: ec-mock's built-in futures. Override to list your own."""
    from ec_mock.instruments import builtin_instruments

    return list(builtin_instruments())


@pytest.fixture
def mock_account() -> str:
    return DEFAULT_TEST_ACCOUNT


@pytest.fixture
def mock_seed() -> int:
    """Seed of the engine and the simulated market. Override to explore other paths."""
    return 0


@pytest.fixture
def mock_exchange(
    mock_clock: ManualClock,
    mock_instruments: Sequence[Instrument],
    mock_account: str,
    mock_seed: int,
) -> Exchange:
    """The matching engine on ``mock_clock`` with ``mock_account`` open."""
    from ec_mock.engine import Exchange

    exchange = Exchange(instruments=list(mock_instruments), clock=mock_clock, seed=mock_seed)
    exchange.open_account(mock_account)
    return exchange


@pytest.fixture
def mock_venue(
    mock_exchange: Exchange, mock_clock: ManualClock, mock_seed: int
) -> Iterator[MockVenue]:
    """The venue sessions attach to; fails the test at teardown if a callback raised."""
    from ec_mock.vendor import MockVenue

    venue = MockVenue(mock_exchange, mock_clock, seed=mock_seed, market=True)
    yield venue
    venue.check()


@pytest.fixture
def fault_plan(request: pytest.FixtureRequest) -> FaultPlan | None:
    """The plan of the test's ``ec_fault`` marker (closest wins), or ``None``."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None
    from ec_mock.vendor.faultgate import plan_from_marker

    return plan_from_marker(*marker.args, **marker.kwargs)


@pytest.fixture
async def mock_session(
    mock_venue: MockVenue, fault_plan: FaultPlan | None, mock_account: str, mock_seed: int
) -> AsyncIterator[MockSession]:
    """A logged-on ``mock`` session on ``mock_venue`` (tests must be ``@pytest.mark.anyio``)."""
    from ec_mock.vendor import MockVendorFactory

    settings: dict[str, Any] = {
        "venue": mock_venue,
        "faults": fault_plan,
        "account_id": mock_account,
        "seed": mock_seed,
    }
    async with MockVendorFactory().open(settings) as session:
        yield session
    if session.gate is not None:
        unfired = session.gate.unfired()
        if unfired:
            pytest.fail(
                f"ec_fault: fault(s) planned but never fired: {', '.join(unfired)}",
                pytrace=False,
            )


@pytest.fixture
def strategy_rig(
    mock_instruments: Sequence[Instrument], mock_account: str, mock_seed: int
) -> StrategyRig:
    """Run an ``OpStrategy`` on the mock venue over ticks the test writes (see the docs page
    "Test a strategy on the mock")."""
    from ec_mock.strategy_rig import StrategyRig

    return StrategyRig(mock_instruments, account_id=mock_account, seed=mock_seed)
