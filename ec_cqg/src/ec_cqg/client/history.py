"""``session.history`` of the cqg vendor: :class:`~ec_core.history.HistoryFeed` over CQG.

Bars are ``time_bar_requests`` and ticks ``time_and_sales_requests`` (level 3: trades and
best bid/ask with volumes), built and read by :mod:`ec_cqg.client.core.history`. A
report that says ``truncated`` is followed by another request from its
``up_to_utc_time``, up to :data:`MAX_PAGES` pages. ``end=None`` sends no ``to_utc_time``,
so the server's own now bounds the answer (its clock may differ from ours) and its
``up_to_utc_time`` is the result's seam. Prices come back in integer ticks through the
contract's price scale; a price off the tick grid is a protocol error, never rounded.

:meth:`CqgHistoryFeed.subscribe_bars` is a time bar subscription: the same historical
part, then each live bar once complete (:mod:`ec_cqg.client.core.bars`), as a
:class:`BarStream`; leaving the context drops it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Final, TypeVar, final

import anyio
from ec_core.data.timeframe import Timeframe
from ec_core.errors import ConnectionLostError, EcError, HistoryRequestError
from ec_core.history import HistoryResult, Moment, history_timeframe, moment_ns
from ec_core.model import Bar, Instrument, MarketEvent, Quote, SessionState
from ec_core.streams import MarketChannel

from ec_cqg.client.core import Call
from ec_cqg.client.core import history as wire
from ec_cqg.client.core.bars import LiveBar
from ec_cqg.protocol.correlation import Answer
from ec_cqg.protocol.pb import ClientMsg

if TYPE_CHECKING:
    from ec_cqg.client.features import SessionBackend

__all__ = ["MAX_PAGES", "BarStream", "CqgHistoryFeed"]

log = logging.getLogger("ec_cqg.client")

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

    @asynccontextmanager
    async def subscribe_bars(
        self, instrument: Instrument, timeframe: str | Timeframe, start: Moment
    ) -> AsyncIterator[BarStream]:
        """Complete bars of ``timeframe`` from ``start`` on: the history first, then each
        live bar once it is complete (a time bar subscription). Drops it on exit.

        ``stream.current`` is the bar in progress. The stream ends when the line drops
        or the server ends the subscription; iterating on then raises
        :class:`~ec_core.errors.ConnectionLostError` naming why: subscribe again from
        the last bar's ``end_ns``.
        """
        session = self._session
        symbol = instrument.symbol
        frame = history_timeframe(symbol, timeframe)
        unit = wire.bar_unit_of(symbol, frame)
        start_ns, _ = await self._prepare(instrument, start, None)
        core = session.core
        base = core.base_time
        if base is None:
            raise ConnectionLostError("not logged on")
        ref = core.contracts.ref(symbol)
        calendar = instrument.trading_calendar
        # bounded like every stream: the history part fits, a consumer that lags far
        # behind the live part loses the oldest bars (counted in ``dropped``)
        channel: MarketChannel[Bar] = MarketChannel(BAR_CAPACITY)
        live = LiveBar(
            0, symbol=symbol, frame=frame, prices=ref.prices, calendar=calendar, sink=channel
        )

        def interpret(answers: list[Answer]) -> None:
            page = wire.bars_of(
                answers,
                symbol=symbol,
                timeframe=frame,
                prices=ref.prices,
                base=base,
                start_ns=start_ns,
                calendar=calendar,
            )
            live.begin(page, base)

        def begin(*, deadline_ns: int) -> tuple[Call[None], bytes]:
            live.request_id = core.next_request_id()
            core.bars.open(live)
            msg = wire.time_bar_message(
                live.request_id,
                ref.contract_id,
                unit,
                base=base,
                start_ns=start_ns,
                end_ns=None,
                subscribe=True,
            )
            return core.calls.start(
                msg,
                interpret,
                deadline_ns=deadline_ns,
                on_error=lambda exc: core.bars.close(live.request_id, str(exc)),
            )

        try:
            await session.driver.ask(begin)
        except BaseException:
            core.bars.close(live.request_id, "subscription refused or abandoned")
            raise
        try:
            yield BarStream(channel, live)
        finally:
            await self._drop(live)

    async def _drop(self, live: LiveBar) -> None:
        session = self._session
        core = session.core
        was_live = live.ended is None
        core.bars.close(live.request_id, "dropped")
        if not was_live or session.state is not SessionState.LOGGED_ON:
            return

        def drop(*, deadline_ns: int) -> tuple[Call[None], bytes]:
            msg = wire.drop_bars_message(live.request_id)
            return core.calls.start(msg, lambda _answers: None, deadline_ns=deadline_ns)

        with anyio.move_on_after(session.settings.request_timeout, shield=True):
            try:
                await session.driver.ask(drop)
            except EcError as exc:
                log.info("cqg: dropping the %s bar subscription failed: %s", live.symbol, exc)

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


BAR_CAPACITY = 1_000_000  # bars of one subscription held for its consumer


@final
class BarStream(AsyncIterator[Bar]):
    """Complete bars of one time bar subscription, oldest first (see
    :meth:`CqgHistoryFeed.subscribe_bars`)."""

    __slots__ = ("_channel", "_live")

    def __init__(self, channel: MarketChannel[Bar], live: LiveBar) -> None:
        self._channel = channel
        self._live = live

    @property
    def current(self) -> Bar | None:
        """The bar in progress as the server last updated it (``None`` right after one
        completed)."""
        return self._live.current

    @property
    def delivered(self) -> int:
        return self._live.delivered

    def __aiter__(self) -> BarStream:
        return self

    async def __anext__(self) -> Bar:
        try:
            return await self._channel.__anext__()
        except StopAsyncIteration:
            reason = self._live.ended
            if reason is None or reason == "dropped":
                raise
            raise ConnectionLostError(
                f"{self._live.symbol} {self._live.frame.name} bar subscription ended: {reason}"
            ) from None
