"""Entry checks a new order and a modify both run: stop side, buying power, GTD expiry,
lowest price and price band.

Each raises :class:`~ec_mock.engine.core.Reject` with its code. The new-order rules
(:mod:`ec_mock.engine.rules`), the modify rules (:mod:`ec_mock.engine.modify_rules`)
and the amend layer call them with the prices of the request under check; they sit
apart from either table so each table holds only its own rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ec_core.model import Instrument

from ec_mock.engine.codes import RejectCode
from ec_mock.engine.core import _BUY, _SELL, Reject
from ec_mock.engine.ledger import AccountLedger
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.sessions import end_of_date_ns

if TYPE_CHECKING:
    from ec_mock.engine.orders import OrderEntryLayer

__all__ = [
    "check_band",
    "check_buying_power",
    "check_min_price",
    "check_stop_side",
    "gtd_expiry",
    "short_of_margin",
]


def check_stop_side(ex: OrderEntryLayer, instrument: Instrument, side: int, stop: int) -> None:
    """A stop must not trigger at once: a buy stop above the market, a sell stop below.

    The market is the last trade, else the opposite touch; with neither, any stop goes.
    """
    symbol = instrument.symbol
    ref = ex._marks.get(symbol)
    if ref is None:
        book = ex._books[symbol]
        ref = book.best_ask() if side > 0 else book.best_bid()
    if ref is None:
        return
    if (stop <= ref) if side > 0 else (stop >= ref):
        named = _BUY if side > 0 else _SELL
        relation = "above" if side > 0 else "below"
        raise Reject(
            RejectCode.STOP_WRONG_SIDE,
            f"{named} stop {instrument.to_price(stop)} must be {relation} the market"
            f" {instrument.to_price(ref)}",
        )


def check_buying_power(
    ex: OrderEntryLayer, acct: AccountLedger, instrument: Instrument, side: int, extra_qty: int
) -> None:
    """Initial margin for the exposure ``extra_qty`` more contracts on ``side`` would add."""
    pos = acct.positions.get(instrument.symbol)
    margin = pos.margin if pos is not None else ex.margin(instrument.symbol)
    added = extra_qty if pos is None else pos.exposure_with(side, extra_qty) - pos.exposure()
    if added <= 0:
        return
    if pos is not None:
        short = pos.margin_units * added > acct.buying_power_units()
    else:
        short = margin * added > acct.buying_power(ex._marks)
    if short:
        raise Reject(
            RejectCode.INSUFFICIENT_BUYING_POWER,
            f"needs {margin * added} {acct.currency} initial margin for {added} more"
            f" contract(s); buying power is {acct.buying_power(ex._marks)}",
        )


def short_of_margin(acct: AccountLedger, margin: Decimal, added: int) -> Reject:
    """The reject of a new order whose added exposure the buying power does not cover.

    Checked last, where the order's margin is reserved (``OrderEntryLayer._new``,
    through ``PositionLedger.add_working``): the exposure it adds is computed once for both.
    """
    available = acct.cash + acct.unrealized_value - acct.margin_value
    return Reject(
        RejectCode.INSUFFICIENT_BUYING_POWER,
        f"needs {margin * added} {acct.currency} initial margin for {added} more"
        f" contract(s); buying power is {available}",
    )


def gtd_expiry(ex: OrderEntryLayer, order: OrderRecord, day: date, past: str) -> int:
    """When an order good through ``day`` expires; a day already gone is a reject."""
    instrument = ex._instruments[order.symbol]
    expire_ns = end_of_date_ns(day, instrument.trading_hours)
    now = ex._ts
    today = ex._calendars[order.symbol].trading_date(now)
    if day < today:
        raise Reject(RejectCode.GTD_IN_PAST, past.format(day=day, today=today))
    if expire_ns <= now:  # today, after its close
        raise Reject(
            RejectCode.GTD_IN_PAST,
            f"good_thru_date {day} has ended: the {order.symbol} session of that date is closed",
        )
    return expire_ns


def check_min_price(ex: OrderEntryLayer, instrument: Instrument, *prices: int | None) -> None:
    """Reject any of ``prices`` under the product's lowest price (if it has one)."""
    lowest = ex._limits[instrument.symbol].min_price
    if lowest is None:
        return
    for price in prices:
        if price is not None and price < lowest:
            raise Reject(
                RejectCode.PRICE_BELOW_MINIMUM,
                f"price {instrument.to_price(price)} is below {instrument.symbol}'s lowest"
                f" price {instrument.to_price(lowest)}",
            )


def check_band(ex: OrderEntryLayer, instrument: Instrument, side: int, price: int | None) -> None:
    """Reject ``price`` on ``side`` if it lies beyond the dynamic band (see above)."""
    symbol = instrument.symbol
    ref = ex._marks.get(symbol)
    band = ex._limits[symbol].band
    if ref is None or price is None or band is None:
        return
    if (price > ref + band) if side > 0 else (price < ref - band):
        edge = ref + band if side > 0 else ref - band
        raise Reject(
            RejectCode.PRICE_OUTSIDE_BAND,
            f"{_BUY if side > 0 else _SELL} at {instrument.to_price(price)} is outside the"
            f" price band of {symbol}: {'at most' if side > 0 else 'at least'}"
            f" {instrument.to_price(edge)} (last trade {instrument.to_price(ref)})",
        )
