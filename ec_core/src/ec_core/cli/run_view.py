"""What ``ec run`` shows while it trades and when it stops.

Per instrument: position and average price, last price, bid and ask, realized and
unrealized P&L in the instrument's currency; a symbol the run does not trade that the
account holds (an order placed elsewhere): its position and realized P&L, in money once
its instrument is known, else in price points said to be no money; the working orders
(side, quantity, price) and the UNKNOWN ones apart; the market time (the venue's clock);
order actions by outcome; each distinct error once with its count. The live view is
redrawn from this; the stop summary prints the same lines once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from ec_core.cli.signals import StopOnSignal
from ec_core.clock import utc_iso as market_time
from ec_core.model import Order, OrderState
from ec_core.model.money import format_money, money_places

if TYPE_CHECKING:
    from ec_core.strategy.rig import TradingRig

__all__ = [
    "instrument_lines",
    "live_logging",
    "market_time",
    "open_at_stop",
    "order_line",
    "run_stop",
    "stop_order_lines",
    "unknown_lines",
    "view",
    "working_lines",
]


def _mark(rig: TradingRig, symbol: str) -> Decimal | None:
    """The price positions are marked at: the quote's mid, else the last trade."""
    buffer = rig.engine.feeds[symbol].tick_buffer
    bid, ask = buffer.bid, buffer.ask
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    return buffer.last


def instrument_lines(rig: TradingRig) -> list[str]:
    """One line per instrument: position, last price, bid/ask and P&L with currency."""
    lines = []
    for symbol, feed in rig.engine.feeds.items():
        instrument = feed.instrument
        buffer = feed.tick_buffer
        places, currency = money_places(instrument), instrument.currency
        position = rig.tracker.position(rig.account_id, symbol)
        mark = _mark(rig, symbol)
        unrealized = (
            rig.tracker.unrealized_pnl(rig.account_id, symbol, mark)
            if mark is not None and position.qty
            else Decimal(0)
        )
        held = f"{position.qty:+d}"
        if position.qty:
            held += f" @ {position.avg_price}"
        last = buffer.last if buffer.last is not None else mark
        lines.append(
            f"{symbol}: position {held}, last {last if last is not None else '-'}"
            f" (bid {buffer.bid if buffer.bid is not None else '-'}"
            f" ask {buffer.ask if buffer.ask is not None else '-'}),"
            f" realized {format_money(position.realized_pnl, places, currency, sign=True)},"
            f" unrealized {format_money(unrealized, places, currency, sign=True)}"
        )
    for position in rig.tracker.positions(rig.account_id):  # held, not traded by the run
        known = rig.priced.get(position.symbol)
        if known is None or position.symbol in rig.engine.feeds:
            continue  # traded (above), or not priced (below)
        held = f"{position.qty:+d}"
        if position.qty:
            held += f" @ {position.avg_price}"
        realized = format_money(
            position.realized_pnl, money_places(known), known.currency, sign=True
        )
        lines.append(
            f"{position.symbol}: position {held}, realized {realized} (not traded by this run)"
        )
    for symbol in rig.tracker.unpriced(rig.account_id):  # fills of orders placed elsewhere
        position = rig.tracker.position(rig.account_id, symbol)
        points = rig.tracker.realized_points(rig.account_id, symbol)
        lines.append(
            f"{symbol}: position {position.qty:+d}, realized {points:+} price points"
            " (its instrument is not known here: not money)"
        )
    return lines


def working_lines(rig: TradingRig) -> list[str]:
    """Each open order but the UNKNOWN ones (:func:`unknown_lines`): see :func:`order_line`."""
    return [
        order_line(order)
        for order in rig.tracker.open_orders(rig.account_id)
        if order.state is not OrderState.UNKNOWN
    ]


def unknown_lines(rig: TradingRig) -> list[str]:
    """Each UNKNOWN order (sent, its fate not known: it may be working), apart from the
    working ones so the view never shows it as working."""
    return [
        order_line(order)
        for order in rig.tracker.open_orders(rig.account_id)
        if order.state is OrderState.UNKNOWN
    ]


def order_line(order: Order) -> str:
    """Side, remaining quantity, symbol, type, price, client id and state."""
    price = ""
    if order.limit_price is not None:
        price += f" @ {order.limit_price}"
    if order.stop_price is not None:
        price += f" stop {order.stop_price}"
    return (
        f"{order.side.value} {order.remaining_qty} {order.symbol}"
        f" {order.order_type.value}{price} ({order.cl_order_id}, {order.state.value})"
    )


def run_stop() -> StopOnSignal:
    """The stop of ``ec run``, local or through a gateway: one wording for both, a
    second signal stopping it where it is leaves the working orders in place."""
    return StopOnSignal(
        "market data ended", command="ec run", left="working orders were NOT cancelled: check them"
    )


def open_at_stop(orders: Iterable[Order]) -> tuple[int, int]:
    """(working, UNKNOWN) among open orders: an UNKNOWN one may or may not be working."""
    unknown = working = 0
    for order in orders:
        if order.state is OrderState.UNKNOWN:
            unknown += 1
        else:
            working += 1
    return working, unknown


def stop_order_lines(rig: TradingRig) -> list[str]:
    """The stop summary's line per open order: working, or UNKNOWN with what to do."""
    return [
        f"unknown {order_line(order)}: check it with the venue"
        if order.state is OrderState.UNKNOWN
        else f"working {order_line(order)}"
        for order in rig.tracker.open_orders(rig.account_id)
    ]


def error_lines(rig: TradingRig) -> list[str]:
    """Each distinct error once, with how many times it happened."""
    lines = []
    for e in rig.engine.errors:
        at = f" at {e.at}" if e.at else ""
        times = f" (x{e.count})" if e.count > 1 else ""
        lines.append(f"{e.where} {e.strategy}{at}: {e.error}{times}")
    return lines


def view(rig: TradingRig, label: str) -> Table:
    """The live table, redrawn a few times a second."""
    engine = rig.engine
    table = Table(title=f"ec run {label}", show_header=False)
    table.add_column("what", no_wrap=True)
    table.add_column("value")
    table.add_row("market time", market_time(engine.clock.now_ns()))
    for line in instrument_lines(rig):
        symbol, _, rest = line.partition(": ")
        table.add_row(symbol, rest)
    table.add_row("ticks", str(engine.events))
    table.add_row("signals", f"{len(engine.signals)} live, {len(engine.finished)} finished")
    table.add_row(
        "orders", f"{engine.outcomes.snapshot().describe()}; {engine.in_flight} in flight"
    )
    working = working_lines(rig)
    table.add_row("working", "\n".join(working) if working else "none")
    unknown = unknown_lines(rig)
    if unknown:  # asked of the venue by the executor; until it answers, check it there
        table.add_row("UNKNOWN", "\n".join(unknown))
    table.add_row("fills", str(rig.tracker.stats().fills))
    errors = error_lines(rig)
    table.add_row("errors", "\n".join(errors) if errors else "none")
    for name, why in engine.disabled.items():
        table.add_row("disabled", f"{name}: {why}")
    return table


@contextmanager
def live_logging(console: Console) -> Iterator[None]:
    """While the live view is up, log records print above it through ``console``
    (a plain stream handler would write into the middle of the table)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
    handler.setLevel(min((h.level for h in saved), default=logging.NOTSET))
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved
