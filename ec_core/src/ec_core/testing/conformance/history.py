"""Kit tests of history (``Capability.HISTORY``): typed refusals, well-formed bars and ticks,
and a trade the kit makes is on the tape afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import anyio
import pytest

from ec_core.errors import HistoryRequestError, HistoryTooFarBackError
from ec_core.history import HistoryFeed, HistoryResult, SupportsHistory
from ec_core.model import Bar, Instrument, MarketEvent, ReportKind, Side, Trade
from ec_core.testing.conformance.base import ConformanceBase, KitOrders
from ec_core.testing.conformance.control import MarketControl
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.market_data import check_market_event
from ec_core.testing.conformance.requirements import MARKET_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["HistoryConformance", "check_bar", "history_since"]

_YEAR_NS = 365 * 86_400 * 1_000_000_000
_MINUTE_NS = 60 * 1_000_000_000
_DAY_NS = 86_400 * 1_000_000_000
_WAITS = 200


def _feed(session: Session) -> HistoryFeed:
    assert isinstance(session, SupportsHistory), (
        f"vendor {session.vendor!r} declares Capability.HISTORY but its session has no"
        " .history (ec_core.history.SupportsHistory)"
    )
    return session.history


def check_bar(bar: Bar, instrument: Instrument, *, timeframe: str, size_ns: int) -> None:
    """Fail unless ``bar`` is a well-formed time bar of ``instrument`` in integer ticks."""
    assert bar.symbol == instrument.symbol, (
        f"a bar names the symbol asked for ({instrument.symbol}): {bar}"
    )
    assert bar.timeframe == timeframe, f"a bar carries the timeframe asked for ({timeframe}): {bar}"
    for name in ("open", "high", "low", "close", "volume", "count", "start_ns", "end_ns"):
        value = getattr(bar, name)
        assert type(value) is int, f"bar {name} {value!r} is not an int"
    assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high, (
        f"a bar's low <= open, close <= high: {bar}"
    )
    assert bar.end_ns - bar.start_ns == size_ns, (
        f"a {timeframe} bar spans {size_ns} ns from start_ns to end_ns: {bar}"
    )
    assert bar.start_ns % size_ns == 0, f"bar not aligned on {timeframe}: {bar}"
    assert bar.count >= 1, f"a bar holds at least one trade (count >= 1): {bar}"
    assert bar.volume >= 0, f"a bar's volume is not negative: {bar}"


async def history_since(
    feed: HistoryFeed, instrument: Instrument, start_ns: int, end_ns: int | None = None
) -> HistoryResult[MarketEvent]:
    """Ticks from ``start_ns``, or from the venue's horizon when that is too far back."""
    try:
        return await feed.ticks(instrument, start_ns, end_ns)
    except HistoryTooFarBackError as exc:
        horizon = exc.horizon_ns
        if horizon is None:  # the venue does not say: ask for the last day
            horizon = max(start_ns, (end_ns or start_ns + _YEAR_NS) - _DAY_NS)
        elif horizon <= start_ns:
            raise AssertionError(
                f"too far back, yet the horizon is before the start: {exc}"
            ) from exc
        return await feed.ticks(instrument, horizon, end_ns)


class HistoryConformance(ConformanceBase, kit=True):
    """Bars and ticks of the past, in ticks, with typed refusals."""

    @requires(Capability.HISTORY)
    @pytest.mark.anyio
    async def test_history_far_back_is_too_far_back_naming_the_horizon(
        self, vendor_session: Session, instrument: Instrument, venue_clock: Callable[[], int]
    ) -> None:
        feed = _feed(vendor_session)
        now = venue_clock()
        start = now - 100 * _YEAR_NS
        with pytest.raises(HistoryTooFarBackError) as caught:
            await feed.ticks(instrument, start, now)
        assert caught.value.symbol == instrument.symbol, (
            "HistoryTooFarBackError names the symbol asked for:"
            f" {caught.value.symbol!r}, not {instrument.symbol!r}"
        )
        horizon = caught.value.horizon_ns
        if horizon is not None:
            assert start < horizon <= now + _YEAR_NS, (
                f"the error's horizon lies between the start asked for and now: {caught.value}"
            )
        with pytest.raises(HistoryTooFarBackError):
            await feed.bars(instrument, "1m", start, now)

    @requires(Capability.HISTORY)
    @pytest.mark.anyio
    async def test_history_bad_requests_are_request_errors(
        self, vendor_session: Session, instrument: Instrument, venue_clock: Callable[[], int]
    ) -> None:
        feed = _feed(vendor_session)
        now = venue_clock()
        with pytest.raises(HistoryRequestError) as backwards:
            await feed.ticks(instrument, now, now - _MINUTE_NS)
        assert backwards.value.field == "end", (
            "an end before the start is a HistoryRequestError naming field 'end',"
            f" not {backwards.value.field!r}"
        )
        with pytest.raises(HistoryRequestError) as naive:
            await feed.ticks(instrument, datetime(2024, 1, 10, 15, 0))
        assert naive.value.field == "start", (
            "a naive datetime is a HistoryRequestError naming field 'start',"
            f" not {naive.value.field!r}"
        )
        with pytest.raises(HistoryRequestError) as ticks_bar:
            await feed.bars(instrument, "100t", now - _MINUTE_NS, now)
        assert ticks_bar.value.field == "timeframe", (
            "bars of a tick count (100t) are a HistoryRequestError naming field 'timeframe',"
            f" not {ticks_bar.value.field!r}"
        )

    @requires(Capability.HISTORY)
    @pytest.mark.anyio
    async def test_history_ticks_and_bars_are_well_formed(
        self, vendor_session: Session, instrument: Instrument, venue_clock: Callable[[], int]
    ) -> None:
        feed = _feed(vendor_session)
        now = venue_clock()
        ticks = await history_since(feed, instrument, now - _YEAR_NS, now + 1)
        assert ticks.up_to_ns <= now + 1, (
            f"history is complete up to up_to_ns, never after the end asked for: {ticks.up_to_ns}"
        )
        previous = None
        for event in ticks:
            check_market_event(event, instrument)
            assert event.ts_ns < ticks.up_to_ns, (
                f"every tick of history is before its up_to_ns ({ticks.up_to_ns}): {event}"
            )
            if previous is not None:
                assert event.ts_ns >= previous, "history ticks go back in time"
            previous = event.ts_ns
        start = (now - 10 * _MINUTE_NS) // _MINUTE_NS * _MINUTE_NS
        try:
            bars = await feed.bars(instrument, "1m", start, now)
        except HistoryTooFarBackError as exc:
            horizon = exc.horizon_ns if exc.horizon_ns is not None else now - _DAY_NS
            aligned = -(-horizon // _MINUTE_NS) * _MINUTE_NS
            bars = await feed.bars(instrument, "1m", aligned, now)
            start = aligned
        assert bars.up_to_ns <= now, (
            f"bars are complete up to up_to_ns, never after now: {bars.up_to_ns}"
        )
        for bar in bars:
            check_bar(bar, instrument, timeframe="1m", size_ns=_MINUTE_NS)
            assert start <= bar.start_ns, (
                f"no bar starts before the start asked for ({start}): {bar}"
            )
            assert bar.end_ns <= bars.up_to_ns, (
                f"every bar ends by up_to_ns ({bars.up_to_ns}): {bar}"
            )
        starts = [bar.start_ns for bar in bars]
        assert starts == sorted(set(starts)), "bars repeat or go back in time"

    @requires(Capability.HISTORY, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_history_ticks_hold_a_trade_the_kit_made(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
        venue_clock: Callable[[], int],
        let_time_pass: Callable[[], None] | None,
    ) -> None:
        feed = _feed(vendor_session)
        before = venue_clock()
        price = self.price(instrument, reference_price)
        cl = kit_orders.new_id()
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=2,
                price=price,
            )
            await market_control.place(instrument, Side.SELL, price, 2)
            filled = 0
            while filled < 2:
                filled = (await self.chain_report(reader, cl, ReportKind.FILL)).filled_qty
        filled_at = venue_clock()
        for _ in range(_WAITS):  # the fill's instant must be in the past: history is complete
            if let_time_pass is not None:
                let_time_pass()
            ticks = await history_since(feed, instrument, before - _MINUTE_NS)
            if ticks.up_to_ns > filled_at:
                break
            await anyio.sleep(0.01)  # a real backend's clock runs by itself
        prints = [e for e in ticks if isinstance(e, Trade) and e.ts_ns >= before]
        traded = sum(t.size for t in prints if t.price == instrument.to_ticks(price))
        assert traded >= 2, f"the kit's fill of 2 at {price} is not on the tape: {prints}"
