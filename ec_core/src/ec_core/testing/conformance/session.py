"""Kit tests of the session itself: lifecycle, accounts, symbol resolution, the trade snapshot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ec_core.errors import SymbolNotFoundError
from ec_core.model import (
    Account,
    AccountReport,
    ExecutionReport,
    Instrument,
    PositionReport,
    SessionState,
    Side,
    SnapshotComplete,
)
from ec_core.testing.conformance.base import (
    SNAPSHOT_RULE,
    ConformanceBase,
    KitOrders,
    SessionOpener,
)
from ec_core.testing.conformance.events import TradeReader
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import requires
from ec_core.vendor import Capability, MarketDataFeed, OrderGateway, Session, TradeMonitor

__all__ = ["SessionConformance"]


def _state_of(session: Session) -> SessionState:
    return session.state


class SessionConformance(ConformanceBase, kit=True):
    """A session opens logged on, closes CLOSED, lists accounts, resolves symbols, and
    starts a trade subscription with a snapshot ended by ``SnapshotComplete``."""

    @pytest.mark.anyio
    async def test_session_is_logged_on_inside_and_closed_after(
        self, open_vendor_session: SessionOpener
    ) -> None:
        async with open_vendor_session() as session:
            assert isinstance(session, Session), f"{type(session).__name__} is not a Session"
            assert session.state is SessionState.LOGGED_ON, (
                f"state inside the async with block is {session.state}, not LOGGED_ON"
            )
            if self.vendor_name:
                assert session.vendor == self.vendor_name
        after = _state_of(session)  # read again: the block has exited since
        assert after is SessionState.CLOSED, f"state after the async with block is {after}"

    @pytest.mark.anyio
    async def test_session_parts_satisfy_the_vendor_protocols(
        self, vendor_session: Session
    ) -> None:
        assert isinstance(vendor_session.orders, OrderGateway)
        assert isinstance(vendor_session.market_data, MarketDataFeed)
        assert isinstance(vendor_session.trades, TradeMonitor)
        assert isinstance(vendor_session.vendor, str)
        assert vendor_session.vendor

    @pytest.mark.anyio
    async def test_accounts_include_the_test_account(
        self, vendor_session: Session, account_id: str
    ) -> None:
        accounts = list(await vendor_session.accounts())
        assert all(isinstance(a, Account) for a in accounts), accounts
        ids = [a.account_id for a in accounts]
        assert account_id in ids, f"account {account_id!r} not among {ids}"
        assert len(set(ids)) == len(ids), f"an account is listed twice: {ids}"

    @pytest.mark.anyio
    async def test_resolve_gives_a_consistent_instrument(
        self, vendor_session: Session, instrument_symbol: str
    ) -> None:
        first = await vendor_session.resolve(instrument_symbol)
        again = await vendor_session.resolve(instrument_symbol)
        assert isinstance(first, Instrument)
        assert first.symbol == instrument_symbol
        assert first == again, "resolving the same symbol twice gave different instruments"
        assert isinstance(first.tick_size, Decimal)
        assert first.tick_size > 0
        assert isinstance(first.multiplier, Decimal)
        assert first.multiplier > 0
        assert first.tick_value == first.tick_size * first.multiplier
        assert first.max_order_qty > 0
        # The tick grid is exact both ways around a price a few ticks up.
        price = first.to_price(1234)
        assert first.is_on_grid(price)
        assert first.to_ticks(price) == 1234
        assert first.nearest_prices(price + first.tick_size / 2) == (
            price,
            price + first.tick_size,
        )

    @pytest.mark.anyio
    async def test_unknown_symbol_raises_a_typed_error(self, vendor_session: Session) -> None:
        bogus = "NO_SUCH_SYMBOL_EC_KIT"
        rule = "`resolve` of an unknown symbol must raise SymbolNotFoundError (ec_core.errors)"
        try:
            await vendor_session.resolve(bogus)
        except SymbolNotFoundError as error:
            raised: BaseException = error
        except Exception as error:  # what the vendor raised instead, named in the failure
            pytest.fail(f"{rule}, not {type(error).__module__}.{type(error).__qualname__}: {error}")
        else:
            pytest.fail(f"{rule}; it returned an instrument")
        assert bogus in str(raised), f"the SymbolNotFoundError does not name the symbol: {raised}"
        assert vendor_session.state is SessionState.LOGGED_ON, "an unknown symbol ended the session"

    @pytest.mark.anyio
    async def test_trade_stream_starts_with_a_snapshot_then_snapshot_complete(
        self, vendor_session: Session, account_id: str, trade_journal: TradeJournal
    ) -> None:
        async with vendor_session.trades.stream(account_id) as events:
            reader = TradeReader(
                events, timeout=self.timeout, name="trade stream", journal=trade_journal
            )
            complete = await reader.next_matching(
                lambda e: isinstance(e, SnapshotComplete), f"SnapshotComplete ({SNAPSHOT_RULE})"
            )
        assert isinstance(complete, SnapshotComplete)
        assert complete.account_id == account_id
        for event in reader.seen[:-1]:
            if isinstance(event, ExecutionReport):
                assert event.account_id == account_id, event
                assert event.state.is_open, f"a final order in the open-order snapshot: {event}"
            elif isinstance(event, PositionReport):
                assert event.position.account_id == account_id, event
            elif isinstance(event, AccountReport):
                assert event.account.account_id == account_id, event
            else:
                raise AssertionError(f"unexpected event before SnapshotComplete: {event!r}")

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_trade_snapshot_lists_a_working_order(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        async with self.trade_stream(vendor_session, account_id, trade_journal) as first:
            await self.rest_limit(
                vendor_session,
                first,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=1,
                price=self.price(instrument, reference_price),
            )
        async with self.trade_stream(vendor_session, account_id, TradeJournal()) as second:
            listed = [
                e for e in second.seen if isinstance(e, ExecutionReport) and e.cl_order_id == cl
            ]
        assert listed, f"the snapshot of a new subscription does not list working order {cl!r}"
        assert listed[-1].state.is_open
        assert listed[-1].qty == 1
