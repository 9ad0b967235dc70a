"""``session.history`` of the cqg vendor: :class:`~ec_core.history.HistoryFeed` over CQG.

Bars are ``time_bar_requests`` and ticks ``time_and_sales_requests`` (level 3: trades and
best bid/ask with volumes), built and read by :mod:`ec_cqg.client.core.history`. A
report that says ``truncated`` is followed by another request from its
``up_to_utc_time``, up to :data:`MAX_PAGES` pages. ``end=None`` sends no ``to_utc_time``,
so the server's own now bounds the answer (its clock may differ from ours) and its
``up_to_utc_time`` is the result's seam. Prices come back in integer ticks through the
contract's price scale; a price off the tick grid is a protocol error, never rounded.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Final, TypeVar, final

from ec_core.data.timeframe import Timeframe
from ec_core.errors import ConnectionLostError, HistoryRequestError
from ec_core.history import HistoryResult, Moment, history_timeframe, moment_ns
from ec_core.model import Bar, Instrument, MarketEvent, Quote

from ec_cqg.client.core import Call
from ec_cqg.client.core import history as wire
from ec_cqg.protocol.pb import ClientMsg

if TYPE_CHECKING:
    from ec_cqg.client.features import SessionBackend

__all__ = ["MAX_PAGES", "CqgHistoryFeed"]

MAX_PAGES: Final = 100
P = TypeVar("P")


@final
class CqgHistoryFeed:
    """Bars and ticks of the past from a CQG server; see the module docstring."""

    def __init__(self, session: SessionBackend) -> None:
        self._session = session

    async def _prepare(
        self, instrument: Instrument, start: Moment, end: Moment | None
    ) -> tuple[int, int | None]:
        symbol = instrument.symbol
        start_ns = moment_ns(start, symbol=symbol, field="start")
        end_ns = None if end is None else moment_ns(end, symbol=symbol, field="end")
        if end_ns is not None and end_ns < start_ns:
            raise HistoryRequestError(
                f"end {end_ns} is before start {start_ns}", symbol=symbol, field="end", value=end_ns
            )
        await self._session.hold_until_ready()
        await self._session.resolve(symbol)
        return start_ns, end_ns

    async def _page(
        self,
        message: Callable[..., ClientMsg],
        interpret: Callable[..., P],
    ) -> P:
        """One request: ``message(request_id=, base=)`` out, ``interpret(answers, base=)`` back."""
        core = self._session.core
        base = core.base_time
        if base is None:
            raise ConnectionLostError("not logged on")

        def start(*, deadline_ns: int) -> tuple[Call[P], bytes]:
            msg = message(request_id=core.next_request_id(), base=base)
            return core.calls.start(msg, partial(interpret, base=base), deadline_ns=deadline_ns)

        result: P = await self._session.driver.ask(start)
        return result

    async def bars(
        self,
        instrument: Instrument,
        timeframe: str | Timeframe,
        start: Moment,
        end: Moment | None = None,
    ) -> HistoryResult[Bar]:
        """Complete bars of ``timeframe`` inside ``[start, end)``. Cancel-safe."""
        symbol = instrument.symbol
        frame = history_timeframe(symbol, timeframe)
        unit = wire.bar_unit_of(symbol, frame)
        start_ns, end_ns = await self._prepare(instrument, start, end)
        ref = self._session.core.contracts.ref(symbol)
        calendar = instrument.trading_calendar
        bars: list[Bar] = []
        cursor = up_to = start_ns
        for _ in range(MAX_PAGES):
            page = await self._page(
                partial(
                    wire.time_bar_message,
                    contract_id=ref.contract_id,
                    unit=unit,
                    start_ns=cursor,
                    end_ns=end_ns,
                ),
                partial(
                    wire.bars_of,
                    symbol=symbol,
                    timeframe=frame,
                    prices=ref.prices,
                    start_ns=cursor,
                    calendar=calendar,
                ),
            )
            bars.extend(page.bars)
            up_to = max(up_to, page.up_to_ns)
            if not page.truncated or page.up_to_ns <= cursor:
                break
            cursor = page.up_to_ns
        return HistoryResult(bars, up_to_ns=up_to)

    async def ticks(
        self, instrument: Instrument, start: Moment, end: Moment | None = None
    ) -> HistoryResult[MarketEvent]:
        """Trades and best bid/ask inside ``[start, end)``, in time order. Cancel-safe."""
        symbol = instrument.symbol
        start_ns, end_ns = await self._prepare(instrument, start, end)
        ref = self._session.core.contracts.ref(symbol)
        events: list[MarketEvent] = []
        cursor = up_to = start_ns
        bid: tuple[int | None, int] = (None, 0)
        ask: tuple[int | None, int] = (None, 0)
        for _ in range(MAX_PAGES):
            page = await self._page(
                partial(
                    wire.time_and_sales_message,
                    contract_id=ref.contract_id,
                    start_ns=cursor,
                    end_ns=end_ns,
                ),
                partial(
                    wire.ticks_of,
                    symbol=symbol,
                    prices=ref.prices,
                    start_ns=cursor,
                    bid=bid,
                    ask=ask,
                ),
            )
            events.extend(page.events)
            up_to = max(up_to, page.up_to_ns)
            quotes = [e for e in page.events if type(e) is Quote]
            if quotes:
                last = quotes[-1]
                assert isinstance(last, Quote)
                bid, ask = (last.bid, last.bid_size), (last.ask, last.ask_size)
            if not page.truncated or page.up_to_ns <= cursor:
                break
            cursor = page.up_to_ns
        return HistoryResult(events, up_to_ns=up_to)
