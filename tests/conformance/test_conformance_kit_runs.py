"""The kit as a plugin author runs it: generated test modules, run by pytest in process.

Each run subclasses the kit over the mock vendor and checks pytest's outcome: a
vendor lacking capabilities gets skips that name them; an override is held to its
strict xfail; and a vendor with a bug fails the kit test that covers it.
"""

from __future__ import annotations

import textwrap

import pytest
from conformance_support import REFERENCE_PRICES
from ec_core.testing.conformance import (
    Requirement,
    VendorConformance,
    declared_capabilities,
    requirements_of,
)
from ec_core.testing.conformance.requirements import missing_requirements

pytest_plugins = ["pytester"]

KIT_TESTS = len(VendorConformance.kit_tests())
# Kit tests that use the instrument run once per symbol of MockKitFixtures.
PER_INSTRUMENT = 28
SYMBOLS = len(REFERENCE_PRICES)

HEADER = """
from __future__ import annotations

import pytest
from conformance_support import HOUSE, MockKitFixtures, TRADER, rewriting
from decimal import Decimal
from ec_core.model import (
    ExecutionReport, OrderState, Quote, ReportKind, RequestType, SnapshotComplete
)
from ec_core.testing.conformance import VendorConformance
from ec_core.vendor import Capability
import msgspec
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_generated_kit=HEADER + textwrap.dedent(body))
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error", "-rsxX", *args)


def test_the_mock_runs_every_kit_test_without_a_skip(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        class TestMock(MockKitFixtures, VendorConformance):
            pass
        """,
    )
    result.assert_outcomes(passed=KIT_TESTS + PER_INSTRUMENT * (SYMBOLS - 1))


def test_missing_capabilities_skip_the_tests_that_need_them_and_say_which(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        class TestOrdersOnly(MockKitFixtures, VendorConformance):
            @pytest.fixture(params=["EP"])
            def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
                return request.param

            @pytest.fixture
            def vendor_capabilities(self) -> frozenset[Capability]:
                return frozenset({Capability.ORDERS})

            @pytest.fixture
            def market_control(self) -> None:
                return None
        """,
    )
    # market data (2), modify (2), fills (2), cancel-all, liquidate, go flat, positions,
    # historical orders, history (4), depth, reconnect, fills through the executor
    result.assert_outcomes(passed=KIT_TESTS - 18, skipped=18)
    text = result.stdout.str()
    for capability in (
        "market_data",
        "modify",
        "cancel_all",
        "liquidate",
        "historical_orders",
        "history",
        "reconnect",
    ):
        assert f"does not declare capability '{capability}'" in text, capability
    assert "no market_control" in text


def test_a_strict_xfail_override_fails_the_day_the_vendor_passes(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        class TestOverrides(MockKitFixtures, VendorConformance):
            @pytest.mark.xfail(strict=True, reason="pretend the mock lists no accounts")
            @pytest.mark.anyio
            async def test_accounts_include_the_test_account(self, vendor_session, account_id):
                await VendorConformance.test_accounts_include_the_test_account(
                    self, vendor_session, account_id
                )

            @pytest.mark.xfail(strict=True, reason="a documented gap of this vendor")
            @pytest.mark.anyio
            async def test_cancel_ends_the_order(self) -> None:
                raise AssertionError("cannot cancel")
        """,
        "-k",
        "accounts_include or cancel_ends",
    )
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*pretend the mock lists no accounts*"])


def test_an_unmarked_override_stops_the_run_at_collection(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        class TestSilenced(MockKitFixtures, VendorConformance):
            async def test_cancel_ends_the_order(self) -> None:
                pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*OVERRIDE_NOT_XFAIL*TestSilenced.test_cancel_ends_the_order*"])


def live_reject_bug_source(request_type: str) -> str:
    """A vendor reporting a rejected modify or cancel of a live order as REJECTED."""
    return f"""
        def bug(event):
            if (
                isinstance(event, ExecutionReport)
                and event.kind is ReportKind.REJECTED
                and event.request_type is RequestType.{request_type}
            ):
                return msgspec.structs.replace(event, state=OrderState.REJECTED)
            return event
        """


BUGS = {
    "live modify reject reported as REJECTED": (
        live_reject_bug_source("MODIFY"),
        "rejected_modify_of_a_live",
        "LIVE_ORDER_REPORTED_REJECTED",
    ),
    "live cancel reject reported as REJECTED": (
        live_reject_bug_source("CANCEL"),
        "rejected_cancel_of_a_live",
        "a rejected CANCEL of a live order must report the order's unchanged state",
    ),
    "fill ids repeat": (
        """
        def bug(event):
            if isinstance(event, ExecutionReport) and event.fill is not None:
                fill = msgspec.structs.replace(event.fill, fill_id="F-same")
                return msgspec.structs.replace(event, fill=fill)
            return event
        """,
        "fills_have_unique_ids",
        "FILL_ID_NOT_UNIQUE",
    ),
    "modify loses the chain": (
        """
        def bug(event):
            if isinstance(event, ExecutionReport) and event.kind is ReportKind.MODIFIED:
                return msgspec.structs.replace(event, orig_cl_order_id="", chain_id="")
            return event
        """,
        "modify_gives",
        "does not link back",
    ),
    "accepted as filled": (
        """
        def bug(event):
            if isinstance(event, ExecutionReport) and event.kind is ReportKind.ACCEPTED:
                return msgspec.structs.replace(event, state=OrderState.FILLED)
            return event
        """,
        "new_limit_order",
        "FILLED_NOT_FULL",
    ),
    "cancel reported as working": (
        """
        def bug(event):
            if isinstance(event, ExecutionReport) and event.kind is ReportKind.CANCELLED:
                return msgspec.structs.replace(event, state=OrderState.PENDING_NEW)
            return event
        """,
        "cancel_ends",
        "ILLEGAL_TRANSITION",
    ),
}


BUGS["reject without a code"] = (
    """
    def bug(event):
        if isinstance(event, ExecutionReport) and event.kind is ReportKind.REJECTED:
            return msgspec.structs.replace(event, reject_code="")
        return event
    """,
    "cancel_of_an_unknown_order",
    "REJECT_WITHOUT_CODE",
)

BUGS["a fill's qty is not what filled_qty grew by"] = (
    """
    def bug(event):
        if isinstance(event, ExecutionReport) and event.fill is not None:
            fill = msgspec.structs.replace(event.fill, qty=event.fill.qty + 1)
            return msgspec.structs.replace(event, fill=fill)
        return event
    """,
    "fills_have_unique_ids",
    "FILL_QTY_MISMATCH",
)

BUGS["reconnect without GAP"] = (
    """
    from ec_core.model import SessionEvent, SessionEventKind

    def bug(event):
        if isinstance(event, SessionEvent) and event.kind is SessionEventKind.GAP:
            return None
        return event
    """,
    "reconnect_resyncs",
    "after a dropped line the session reconnects by itself and each trade subscription gets"
    " SessionEvent(GAP)",
)

BUGS["partial fill reported as WORKING"] = (
    """
    def bug(event):
        if (
            isinstance(event, ExecutionReport)
            and event.state is OrderState.PARTIALLY_FILLED
        ):
            return msgspec.structs.replace(event, state=OrderState.WORKING)
        return event
    """,
    "partial_fill_then_cancel",
    "PARTIAL_FILL_NOT_PARTIALLY_FILLED: a partial fill's state is PARTIALLY_FILLED",
)

# Market-data bugs: ``bug`` keeps the trade stream; ``market`` rewrites each market event.
MARKET_BUGS = {
    "quotes as Decimal prices": (
        """
        def market(event):
            if isinstance(event, Quote) and event.bid is not None:
                return msgspec.structs.replace(event, bid=Decimal(event.bid) / 4)
            return event
        """,
        "market_data_starts",
        "quote prices must be integer ticks (Instrument.to_ticks of the price, not the price)",
    ),
    "quotes in whole price units": (
        """
        def market(event):
            if isinstance(event, Quote) and event.bid is not None and event.ask is not None:
                return msgspec.structs.replace(event, bid=event.bid // 4, ask=event.ask // 4)
            return event
        """,
        "market_data_starts",
        "quote prices must be integer ticks",
    ),
}


def buggy_kit(bug_source: str, market_source: str = "") -> str:
    """A kit run over a mock session whose events pass through the planted bug."""
    market = market_source or "\ndef market(event):\n    return event\n"
    return (
        textwrap.dedent(bug_source)
        + textwrap.dedent(market)
        + """
class TestBuggy(MockKitFixtures, VendorConformance):
    @pytest.fixture
    def open_vendor_session(self, host, venue):
        opener = lambda: host.open_session("mock", {"venue": venue, "account_id": TRADER})
        return rewriting(opener, bug, market)
"""
    )


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_vendor_bug_fails_the_kit_test_that_covers_it(
    pytester: pytest.Pytester, bug: str
) -> None:
    source, selection, message = BUGS[bug]
    result = run(pytester, buggy_kit(source), "-k", selection)
    # each selected kit test fails (its cleanup may then error too: the vendor is broken)
    outcomes = result.parseoutcomes()
    assert (outcomes.get("failed"), outcomes.get("passed")) == (SYMBOLS, None), outcomes
    assert message in result.stdout.str()


@pytest.mark.parametrize("bug", sorted(MARKET_BUGS))
def test_a_market_data_bug_fails_naming_the_ticks_rule(pytester: pytest.Pytester, bug: str) -> None:
    source, selection, message = MARKET_BUGS[bug]
    result = run(pytester, buggy_kit(NO_BUG, source), "-k", selection)
    result.assert_outcomes(failed=SYMBOLS)
    assert message in result.stdout.str()


NO_BUG = """
def bug(event):
    return event
"""


def test_a_missing_snapshot_complete_fails_naming_the_rule(pytester: pytest.Pytester) -> None:
    dropped = """
    def bug(event):
        return None if isinstance(event, SnapshotComplete) else event
    """
    result = run(pytester, buggy_kit(dropped), "-k", "trade_stream_starts")
    result.assert_outcomes(failed=1)
    assert (
        "a trade subscription sends its snapshot, then SnapshotComplete, then live events"
        in result.stdout.str()
    )


@pytest.mark.parametrize(
    ("vendor_name", "message"),
    [
        ("", "set the class attribute vendor_name"),
        ("nope", "vendor 'nope' is not registered"),
    ],
)
def test_capabilities_need_a_registered_vendor_name(
    pytester: pytest.Pytester, vendor_name: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
        class TestNameless(MockKitFixtures, VendorConformance):
            vendor_name = {vendor_name!r}
        """,
        "-k",
        "accounts_include",
    )
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()


@pytest.mark.parametrize(
    ("vendor", "not_yet"),
    [("mock", []), ("cqg", [])],
)
def test_the_vendors_ec_tests_declare_every_capability_the_kit_needs(
    vendor: str, not_yet: list[Requirement]
) -> None:
    """So the runs of test_conformance_mock and test_conformance_cqg skip nothing else."""
    needs: set[Requirement] = set()
    for name in VendorConformance.kit_tests():
        needs |= requirements_of(getattr(VendorConformance, name))
    missing = missing_requirements(
        needs,
        capabilities=declared_capabilities(vendor),
        market_control=True,
        connection_control=True,
    )
    assert missing == not_yet


def test_the_default_reference_price_comes_from_the_market_data_snapshot(
    pytester: pytest.Pytester,
) -> None:
    """No reference_price override: the kit prices its orders off the best bid it sees."""
    result = run(
        pytester,
        """
        from decimal import Decimal
        from ec_core.model import Duration, NewOrder, OrderType, Side

        class TestFromTheBook(MockKitFixtures, VendorConformance):
            reference_price = VendorConformance.reference_price

            @pytest.fixture(params=["EP"])
            def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
                return request.param

            @pytest.fixture(autouse=True)
            def resting_bid(self, venue) -> None:
                venue.exchange.submit(NewOrder(
                    account_id=HOUSE, symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.LMT,
                    limit_price=Decimal("4321.50"), duration=Duration.GTC, cl_order_id="bid"))

            @pytest.mark.anyio
            async def test_reference_is_the_bid(self, reference_price: Decimal) -> None:
                assert reference_price == Decimal("4321.50")
        """,
        "-k",
        "reference_is_the_bid or new_limit_order or cancel_ends",
    )
    result.assert_outcomes(passed=3)


def test_resolve_raising_a_non_ec_error_fails_the_kit_naming_the_rule(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        from contextlib import asynccontextmanager
        from conformance_support import RewritingSession

        class KeyErrorOnUnknown(RewritingSession):
            async def resolve(self, symbol):
                if symbol == "NO_SUCH_SYMBOL_EC_KIT":
                    raise KeyError(symbol)
                return await super().resolve(symbol)

        class TestBuggy(MockKitFixtures, VendorConformance):
            @pytest.fixture
            def open_vendor_session(self, host, venue):
                @asynccontextmanager
                async def opened():
                    settings = {"venue": venue, "account_id": TRADER}
                    async with host.open_session("mock", settings) as session:
                        yield KeyErrorOnUnknown(session, lambda event: event)

                return opened
        """,
        "-k",
        "unknown_symbol",
    )
    result.assert_outcomes(failed=1)
    assert "`resolve` of an unknown symbol must raise SymbolNotFoundError" in result.stdout.str()


def test_the_whole_kit_runs_on_one_shared_venue_as_on_a_brokers_uat(
    pytester: pytest.Pytester,
) -> None:
    """One venue for every test, as a shared test environment is: each test cleans up after
    itself (its orders cancelled, the control's liquidity cleared, its position traded back),
    so none meets what an earlier one left."""
    result = run(
        pytester,
        """
        from ec_core.clock import ManualClock
        from ec_mock.vendor import MockVenue
        from ec_mock.vendor.venue import SIM_START_NS

        @pytest.fixture(scope="module")
        def shared_venue():
            venue = MockVenue.create(
                clock=ManualClock(SIM_START_NS), accounts=[TRADER, HOUSE], market=False
            )
            yield venue
            venue.check()

        class TestShared(MockKitFixtures, VendorConformance):
            @pytest.fixture
            def venue(self, shared_venue):
                return shared_venue

            @pytest.fixture(params=["EP"])
            def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
                return request.param

            @pytest.mark.anyio
            async def test_zz_the_account_ends_flat_and_the_book_empty(self, venue) -> None:
                exchange = venue.exchange
                assert [p for p in exchange.positions(TRADER) if p.qty] == []
                assert exchange.open_orders(TRADER) == []
                assert exchange.open_orders(HOUSE) == []
        """,
    )
    result.assert_outcomes(passed=KIT_TESTS + 1)
