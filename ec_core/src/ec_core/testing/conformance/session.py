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
                assert session.vendor == self.vendor_name, (
                    f"session.vendor is {session.vendor!r}, the kit expects {self.vendor_name!r}"
                )
        after = _state_of(session)  # read again: the block has exited since
        assert after is SessionState.CLOSED, f"state after the async with block is {after}"

    @pytest.mark.anyio
    async def test_session_parts_satisfy_the_vendor_protocols(
        self, vendor_session: Session
    ) -> None:
        assert isinstance(vendor_session.orders, OrderGateway), (
            f"session.orders is an OrderGateway, not {type(vendor_session.orders).__name__}"
        )
        assert isinstance(vendor_session.market_data, MarketDataFeed), (
            "session.market_data is a MarketDataFeed,"
            f" not {type(vendor_session.market_data).__name__}"
        )
        assert isinstance(vendor_session.trades, TradeMonitor), (
            f"session.trades is a TradeMonitor, not {type(vendor_session.trades).__name__}"
        )
        assert isinstance(vendor_session.vendor, str), (
            f"session.vendor is a str, not {vendor_session.vendor!r}"
        )
        assert vendor_session.vendor, "session.vendor is the vendor's name, not empty"

    @pytest.mark.anyio
    async def test_accounts_include_the_test_account(
        self, vendor_session: Session, account_id: str
    ) -> None:
        accounts = list(await vendor_session.accounts())
        assert all(isinstance(a, Account) for a in accounts), (
            f"accounts() returns Account structs: {accounts}"
        )
        ids = [a.account_id for a in accounts]
        assert account_id in ids, f"account {account_id!r} not among {ids}"
        assert len(set(ids)) == len(ids), f"an account is listed twice: {ids}"

    @pytest.mark.anyio
    async def test_resolve_gives_a_consistent_instrument(
        self, vendor_session: Session, instrument_symbol: str
    ) -> None:
        first = await vendor_session.resolve(instrument_symbol)
        again = await vendor_session.resolve(instrument_symbol)
        assert isinstance(first, Instrument), f"resolve returns an Instrument, not {first!r}"
        assert first.symbol == instrument_symbol, (
            f"resolve({instrument_symbol!r}) returns that symbol's instrument: {first.symbol!r}"
        )
        assert first == again, "resolving the same symbol twice gave different instruments"
        assert isinstance(first.tick_size, Decimal), (
            f"tick_size is a Decimal, not {first.tick_size!r}"
        )
        assert first.tick_size > 0, f"tick_size is positive: {first.tick_size}"
        assert isinstance(first.multiplier, Decimal), (
            f"multiplier is a Decimal, not {first.multiplier!r}"
        )
        assert first.multiplier > 0, f"multiplier is positive: {first.multiplier}"
        assert first.tick_value == first.tick_size * first.multiplier, (
            f"tick_value is tick_size x multiplier: {first}"
        )
        assert first.max_order_qty > 0, f"max_order_qty is positive: {first.max_order_qty}"
        # The tick grid is exact both ways around a price a few ticks up.
        price = first.to_price(1234)
        assert first.is_on_grid(price), f"to_price gives a price on the tick grid: {price}"
        assert first.to_ticks(price) == 1234, (
            f"to_ticks(to_price(1234)) is 1234: {first.to_ticks(price)}"
        )
        assert first.nearest_prices(price + first.tick_size / 2) == (
            price,
            price + first.tick_size,
        ), f"nearest_prices of a price half a tick above {price} are the two ticks around it"

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
        assert isinstance(complete, SnapshotComplete), (
            f"a subscription's snapshot ends with SnapshotComplete, not {complete!r}"
        )
        assert complete.account_id == account_id, (
            f"SnapshotComplete names the subscribed account {account_id!r}: {complete}"
        )
        for event in reader.seen[:-1]:
            if isinstance(event, ExecutionReport):
                assert event.account_id == account_id, (
                    f"the snapshot of {account_id!r} holds only its own orders: {event}"
                )
                assert event.state.is_open, f"a final order in the open-order snapshot: {event}"
            elif isinstance(event, PositionReport):
                assert event.position.account_id == account_id, (
                    f"the snapshot of {account_id!r} holds only its own positions: {event}"
                )
            elif isinstance(event, AccountReport):
                assert event.account.account_id == account_id, (
                    f"the snapshot of {account_id!r} holds only its own account: {event}"
                )
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
        assert listed[-1].state.is_open, (
            f"the snapshot lists working order {cl!r} as open: {listed[-1]}"
        )
        assert listed[-1].qty == 1, (
            f"the snapshot lists working order {cl!r} with its qty 1: {listed[-1]}"
        )
