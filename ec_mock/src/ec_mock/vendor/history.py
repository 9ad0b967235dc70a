"""History of the ``mock`` vendor: bars and ticks from its venue's tape.

The venue records every quote and trade it publishes (:mod:`ec_mock.vendor.tape`),
so what a session streamed live is exactly what history returns later, and a
replayed tape is history too. Bars are cut by the core's :func:`~ec_core.data.bars.cut_bars`
(the instrument's trading calendar cuts ``"1d"``). The mock's users are entitled to
everything; a start before the tape's horizon is :class:`~ec_core.errors.HistoryTooFarBackError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from ec_core.data.bars import cut_bars
from ec_core.data.timeframe import Timeframe
from ec_core.errors import HistoryTooFarBackError
from ec_core.history import HistoryResult, Moment, history_range, history_timeframe
from ec_core.model import Bar, Instrument, MarketEvent

if TYPE_CHECKING:
    from ec_mock.vendor.session import MockSession

__all__ = ["MockHistoryFeed"]


@final
class MockHistoryFeed:
    """:class:`~ec_core.history.HistoryFeed` over the venue's tape; see the module docstring."""

    def __init__(self, session: MockSession) -> None:
        self._session = session

    def _range(
        self, instrument: Instrument, start: Moment, end: Moment | None
    ) -> tuple[int, int, int]:
        """``(start_ns, end_ns, now_ns)``, checked against the tape's horizon."""
        session = self._session
        session._require_logged_on()
        venue = session.venue
        now = venue.clock.now_ns()
        symbol = instrument.symbol
        start_ns, end_ns = history_range(symbol, start, end, default_end_ns=now + 1)
        session.venue_instrument(symbol)  # an unknown symbol is SymbolNotFoundError
        horizon = venue.tape.horizon_ns(symbol)
        if start_ns < horizon:
            raise HistoryTooFarBackError(symbol=symbol, start_ns=start_ns, horizon_ns=horizon)
        return start_ns, end_ns, now

    async def ticks(
        self, instrument: Instrument, start: Moment, end: Moment | None = None
    ) -> HistoryResult[MarketEvent]:
        """Quotes and trades of the tape in ``[start, end)``. Cancel-safe (synchronous)."""
        start_ns, end_ns, now = self._range(instrument, start, end)
        up_to = min(end_ns, now + 1)  # the venue is synchronous: all of ``now`` is on the tape
        events = self._session.venue.tape.events(instrument.symbol, start_ns, up_to)
        return HistoryResult(events, up_to_ns=up_to)

    async def bars(
        self,
        instrument: Instrument,
        timeframe: str | Timeframe,
        start: Moment,
        end: Moment | None = None,
    ) -> HistoryResult[Bar]:
        """Complete trade bars inside ``[start, end)``. Cancel-safe (synchronous)."""
        frame = history_timeframe(instrument.symbol, timeframe)
        start_ns, end_ns, now = self._range(instrument, start, end)
        complete_to = min(end_ns, now)  # a bar that ends by now is complete
        events = self._session.venue.tape.events(instrument.symbol, start_ns, complete_to)
        calendar = self._session.venue_instrument(instrument.symbol).trading_calendar
        bars = [
            bar
            for bar in cut_bars(events, frame, symbol=instrument.symbol, calendar=calendar)
            if bar.start_ns >= start_ns and bar.end_ns <= complete_to
        ]
        return HistoryResult(bars, up_to_ns=complete_to)
