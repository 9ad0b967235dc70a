"""Settlements and end-of-day values: market-data levels 5 and 6, and the settlement in
every level's data, from the engine's daily settlements and the venue's tape.

* Level 5 (``LEVEL_SETTLEMENTS``, settlements only): the snapshot holds the latest
  settlement as a ``TYPE_SETTLEMENT`` quote and the trading day's market values
  (``scaled_settlement`` once the day settled, ``scaled_yesterday_settlement``); each new
  settlement comes as an update with the same two.
* Level 6 (``LEVEL_END_OF_DAY``, end-of-day values only): market values, no quotes: the
  trading day's open, high, low, last trade and its volume, total volume and number of
  trades (from the venue's tape, the trading day as the instrument's calendar cuts it)
  and the settlements; when the day settles, its final values (close = the day's last
  trade) with the settlement.
* Levels 1 to 4 carry the settlements too (the protocol's "trades and settlements"):
  the snapshot's market values and, when a day settles, a ``TYPE_SETTLEMENT`` quote with
  the settled day's values.

The trading day of the values is the calendar's trading day at the time (after the close,
the next one); ``trade_date`` is that date's midnight UTC as an offset from base time. A
new trading day sends no new snapshot: a subscriber sees the next day's figures in its
next snapshot (resubscribe), the mock's simplification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, final

from ec_core.calendar import local_date, utc_midnight_ns
from ec_core.model import Instrument, Trade

from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.prices import PriceScale, qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.contracts import price_scale_of

if TYPE_CHECKING:
    from ec_mock.engine import Exchange, Settlement
    from ec_mock.vendor.tape import Tape

__all__ = ["DailyFigures", "DailySubscription", "add_settlements", "settlement_update"]

_L = market_data_2.MarketDataSubscription
_Q = market_data_2.Quote
DAILY_LEVELS = frozenset({_L.LEVEL_SETTLEMENTS, _L.LEVEL_END_OF_DAY})
_NS = 1_000_000_000


def trading_day(instrument: Instrument, ts_ns: int) -> tuple[date, int]:
    """The trading day ``ts_ns`` counts in and when it started (its first open; midnight
    UTC without a calendar)."""
    calendar = instrument.trading_calendar
    if calendar is None:
        day = local_date(ts_ns, None)
        return day, utc_midnight_ns(day)
    day = calendar.trading_day(ts_ns)
    bounds = calendar.day_bounds(day)
    return day, bounds[0] if bounds is not None else utc_midnight_ns(day)


@final
@dataclass(slots=True)
class DailyFigures:
    """A trading day's trades, folded: the values of CQG's ``MarketValues``."""

    open: int
    high: int
    low: int
    last: int
    last_size: int
    volume: int
    count: int

    @classmethod
    def of(cls, tape: Tape, symbol: str, start_ns: int, end_ns: int) -> DailyFigures | None:
        """The figures of the trades on ``tape`` in ``[start_ns, end_ns)`` (``None``: none)."""
        figures: DailyFigures | None = None
        for event in tape.events(symbol, start_ns, end_ns):
            if not isinstance(event, Trade):
                continue
            price = event.price
            if figures is None:
                figures = cls(price, price, price, price, event.size, 0, 0)
            figures.high = max(figures.high, price)
            figures.low = min(figures.low, price)
            figures.last, figures.last_size = price, event.size
            figures.volume += event.size
            figures.count += 1
        return figures

    def fill(self, values: market_data_2.MarketValues, prices: PriceScale) -> None:
        scaled = prices.ticks_to_scaled
        values.scaled_open_price = scaled(self.open)
        values.scaled_high_price = scaled(self.high)
        values.scaled_low_price = scaled(self.low)
        values.scaled_last_trade_price = scaled(self.last)
        qty_to_cqg(self.last_size, values.last_trade_volume)
        qty_to_cqg(self.volume, values.total_volume)
        values.tick_volume = self.count


def add_settlements(
    values: market_data_2.MarketValues,
    prices: PriceScale,
    settlements: list[Settlement],
    day: date,
) -> None:
    """The settlement of ``day`` (if settled) and the one before it, into ``values``."""
    for settlement in reversed(settlements):
        if settlement.trade_date == day and not values.HasField("scaled_settlement"):
            values.scaled_settlement = prices.ticks_to_scaled(settlement.ticks)
        elif settlement.trade_date < day:
            values.scaled_yesterday_settlement = prices.ticks_to_scaled(settlement.ticks)
            break


def _add_quote(
    data: market_data_2.RealTimeMarketData,
    prices: PriceScale,
    settlement: Settlement,
    base: BaseTime,
) -> None:
    data.quotes.add(
        type=_Q.TYPE_SETTLEMENT,
        scaled_price=prices.ticks_to_scaled(settlement.ticks),
        quote_utc_time=base.to_offset_ms(settlement.ts_ns),
    )


def settlement_update(
    contract_id: int,
    instrument: Instrument,
    settlement: Settlement,
    base: BaseTime,
    *,
    quote: bool,
    figures: DailyFigures | None = None,
) -> market_data_2.RealTimeMarketData:
    """The update a new settlement sends: its quote (levels 1 to 5), the settled day's
    market values (with its final figures at level 6)."""
    prices = price_scale_of(instrument)
    data = market_data_2.RealTimeMarketData(contract_id=contract_id)
    if quote:
        _add_quote(data, prices, settlement, base)
    values = data.market_values.add(
        day_index=0,
        trade_date=base.to_offset_ms(utc_midnight_ns(settlement.trade_date)),
        scaled_settlement=prices.ticks_to_scaled(settlement.ticks),
    )
    if figures is not None:
        figures.fill(values, prices)
        values.scaled_close_price = prices.ticks_to_scaled(figures.last)
    return data


@dataclass(slots=True)
class DailySubscription:
    """One contract's level 5 or 6 subscription in one session."""

    contract_id: int
    instrument: Instrument
    level: int
    request_id: int | None = None

    @property
    def end_of_day(self) -> bool:
        return self.level == _L.LEVEL_END_OF_DAY

    def snapshot(
        self, exchange: Exchange, tape: Tape, base: BaseTime, now_ns: int
    ) -> market_data_2.RealTimeMarketData:
        instrument = self.instrument
        symbol = instrument.symbol
        prices = price_scale_of(instrument)
        data = market_data_2.RealTimeMarketData(
            contract_id=self.contract_id, is_snapshot=True, correct_price_scale=float(prices.scale)
        )
        settlements = exchange.settlements(symbol)
        latest = settlements[-1] if settlements else None
        if latest is not None and not self.end_of_day:
            _add_quote(data, prices, latest, base)
        day, start_ns = trading_day(instrument, now_ns)
        values = data.market_values.add(
            day_index=0, trade_date=base.to_offset_ms(utc_midnight_ns(day))
        )
        add_settlements(values, prices, settlements, day)
        if self.end_of_day:
            figures = DailyFigures.of(tape, symbol, start_ns, now_ns + 1)
            if figures is not None:
                figures.fill(values, prices)
        return data

    def on_settlement(
        self, settlement: Settlement, tape: Tape, base: BaseTime
    ) -> market_data_2.RealTimeMarketData:
        figures = None
        if self.end_of_day:
            _day, start_ns = trading_day(self.instrument, settlement.ts_ns - 1)
            figures = DailyFigures.of(tape, settlement.symbol, start_ns, settlement.ts_ns + 1)
        return settlement_update(
            self.contract_id,
            self.instrument,
            settlement,
            base,
            quote=not self.end_of_day,
            figures=figures,
        )
