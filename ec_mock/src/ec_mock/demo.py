"""``ec demo``: a small, real strategy end to end against the embedded mock exchange.

It goes through the same doors a user's strategy does: the plugin host opens a
``mock`` session, the strategy subscribes to quotes and to its account, then
places, modifies and cancels orders through the core's
:class:`~ec_core.execution.Executor` (pre-trade checks, then the gateway, then
the venue's answer) and takes fills from a seeded simulated market. Nothing
touches the network; it finishes in a few seconds.

The script (each step waits for the venue's answer, never for time):

1. wait for a two-sided quote;
2. rest a limit buy a few ticks under the bid, then *modify* it up to the bid;
3. rest a limit sell far above the market, then *cancel* it;
4. buy at market (a fill), and protect the position with a stop below;
5. let the market run until the resting buy fills (or a number of quotes pass);
6. *go flat*: cancel everything working and close the position at market.

A live view (rich) shows the last quote, the orders and the position while it
runs; a summary table follows. Off a terminal (CI) the view degrades to lines.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import final

import anyio
from anyio.abc import TaskGroup
from ec_core.clock import Clock, WallClock
from ec_core.execution import Executor, Payload, ValidatorGate
from ec_core.model import (
    CancelOrder,
    Duration,
    ExecutionReport,
    Fill,
    GoFlat,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    Quote,
    ReportKind,
    Side,
    Trade,
)
from ec_core.model.money import format_money, money_places
from ec_core.plugins import PluginHost
from ec_core.tracking import OrderTracker
from ec_core.vendor import Session, SupportsClock
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ec_mock.cli import DEMO_SYMBOL

__all__ = ["DemoSummary", "run_demo"]

ACCOUNT = "DEMO-1"
TIMEOUT_S = 60.0  # a safety net only: the demo normally ends in a few seconds
RUN_QUOTES = 400  # quotes to wait, at most, for the resting buy to fill


@final
class DemoSummary:
    """What the demo did; ``ok`` is False if the venue's answers contradicted the script."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.orders: dict[str, ExecutionReport] = {}
        # latest client order id -> every id of its chain (placed, modified, cancelled)
        self.chains: dict[str, list[str]] = {}
        self.fills: list[Fill] = []
        self.position: Position | None = None
        self.last_quote: Quote | None = None
        self.last_trade: Trade | None = None
        self.quotes = 0
        self.steps: list[str] = []
        self.errors: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def net_qty(self) -> int:
        return 0 if self.position is None else self.position.qty


@final
class _Demo:
    def __init__(self, session: Session, executor: Executor, instrument: Instrument) -> None:
        self.session = session
        self.executor = executor
        self.instrument = instrument
        self.summary = DemoSummary(instrument.symbol)
        self._changed = anyio.Event()
        self._ids = 0
        self._order_ids = 0
        self.on_change: Callable[[], None] = lambda: None

    # -- event intake ------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
        self.on_change()

    async def follow_market(self) -> None:
        async with self.session.market_data.stream([self.instrument]) as events:
            async for event in events:
                if isinstance(event, Quote):
                    self.summary.last_quote = event
                    self.summary.quotes += 1
                else:
                    self.summary.last_trade = event
                self._notify()

    async def follow_trades(self) -> None:
        async with self.session.trades.stream(ACCOUNT) as events:
            async for event in events:
                if isinstance(event, ExecutionReport) and event.symbol == self.instrument.symbol:
                    orders = self.summary.orders
                    if event.kind is not ReportKind.STATUS or event.cl_order_id in orders:
                        orders[event.cl_order_id] = event
                        if event.orig_cl_order_id and event.orig_cl_order_id in orders:
                            orders.pop(event.orig_cl_order_id)
                            chains = self.summary.chains
                            chain = chains.pop(event.orig_cl_order_id, [event.orig_cl_order_id])
                            chains[event.cl_order_id] = [*chain, event.cl_order_id]
                    if event.fill is not None:
                        self.summary.fills.append(event.fill)
                elif isinstance(event, PositionReport) and (
                    event.position.symbol == self.instrument.symbol
                ):
                    self.summary.position = event.position
                self._notify()

    async def until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()

    # -- helpers -----------------------------------------------------------------

    async def send(self, request: OrderRequest) -> None:
        """Through the executor: pre-trade checks, then the gateway, then the venue's answer."""
        self._ids += 1
        await self.executor.execute(Payload(request=request, request_id=self._ids))

    def step(self, text: str) -> None:
        self.summary.steps.append(text)
        self.on_change()

    def price(self, ticks: int) -> Decimal:
        return self.instrument.to_price(ticks)

    def new_id(self) -> str:
        self._order_ids += 1
        return f"demo-{self._order_ids}"

    async def place(
        self,
        side: Side,
        qty: int,
        order_type: OrderType,
        duration: Duration,
        *,
        limit_ticks: int | None = None,
        stop_ticks: int | None = None,
    ) -> str:
        """Send a new order for the demo account and instrument; its client order id."""
        cl_order_id = self.new_id()
        await self.send(
            NewOrder(
                account_id=ACCOUNT,
                symbol=self.instrument.symbol,
                side=side,
                qty=qty,
                order_type=order_type,
                limit_price=None if limit_ticks is None else self.price(limit_ticks),
                stop_price=None if stop_ticks is None else self.price(stop_ticks),
                duration=duration,
                cl_order_id=cl_order_id,
            )
        )
        return cl_order_id

    def report(self, cl_order_id: str) -> ExecutionReport | None:
        return self.summary.orders.get(cl_order_id)

    async def answered(self, cl_order_id: str, *kinds: ReportKind) -> ExecutionReport:
        """Wait for a report of ``cl_order_id``; a reject is recorded as a failure."""

        def seen() -> bool:
            report = self.report(cl_order_id)
            if report is None:
                return False
            return report.kind in kinds or report.kind is ReportKind.REJECTED

        await self.until(seen)
        report = self.report(cl_order_id)
        assert report is not None
        if report.kind is ReportKind.REJECTED:
            self.summary.errors.append(
                f"{cl_order_id} rejected: {report.reject_code} {report.reject_text}"
            )
        return report

    def quote(self) -> Quote:
        quote = self.summary.last_quote
        assert quote is not None
        return quote

    # -- the strategy --------------------------------------------------------------

    async def run(self) -> None:
        symbol = self.instrument.symbol
        await self.until(
            lambda: (
                self.summary.last_quote is not None
                and self.summary.last_quote.bid is not None
                and self.summary.last_quote.ask is not None
            )
        )
        bid, ask = self.quote().bid, self.quote().ask
        assert bid is not None
        assert ask is not None
        self.step(f"market open: {symbol} bid {self.price(bid)} ask {self.price(ask)}")

        buy_id = await self.place(Side.BUY, 2, OrderType.LMT, Duration.DAY, limit_ticks=bid - 5)
        await self.answered(buy_id, ReportKind.ACCEPTED, ReportKind.FILL)
        self.step(f"placed  LMT BUY 2 @ {self.price(bid - 5)} ({buy_id})")

        modified_id = self.new_id()
        bid = self.quote().bid or bid
        await self.send(
            ModifyOrder(
                account_id=ACCOUNT,
                symbol=symbol,
                orig_cl_order_id=buy_id,
                cl_order_id=modified_id,
                limit_price=self.price(bid - 1),
            )
        )
        await self.answered(modified_id, ReportKind.MODIFIED, ReportKind.FILL)
        self.step(f"modified {buy_id} -> LMT BUY 2 @ {self.price(bid - 1)} ({modified_id})")

        ask = self.quote().ask or bid
        sell_id = await self.place(Side.SELL, 1, OrderType.LMT, Duration.GTC, limit_ticks=ask + 50)
        await self.answered(sell_id, ReportKind.ACCEPTED)
        cancel_id = self.new_id()
        await self.send(
            CancelOrder(
                account_id=ACCOUNT, symbol=symbol, orig_cl_order_id=sell_id, cl_order_id=cancel_id
            )
        )
        await self.until(
            lambda: (
                self._state(sell_id, cancel_id) is OrderState.CANCELLED or bool(self.summary.errors)
            )
        )
        self.step(
            f"placed and cancelled LMT SELL 1 @ {self.price(ask + 50)} ({sell_id}, cancel"
            f" {cancel_id})"
        )

        market_id = await self.place(Side.BUY, 1, OrderType.MKT, Duration.IOC)
        await self.until(
            lambda: (
                self._state(market_id)
                in (OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED)
            )
        )
        filled = self.report(market_id)
        self.step(
            f"bought 1 at market: {filled.state if filled else '?'}"
            f" @ {filled.avg_fill_price if filled else '?'} ({market_id})"
        )

        stop_ticks = (self.quote().bid or bid) - 20
        stop_id = await self.place(Side.SELL, 1, OrderType.STP, Duration.DAY, stop_ticks=stop_ticks)
        await self.answered(stop_id, ReportKind.ACCEPTED, ReportKind.FILL)
        self.step(f"protective STP SELL 1 @ {self.price(stop_ticks)} ({stop_id})")

        start = self.summary.quotes
        await self.until(
            lambda: (
                self._state(modified_id) is OrderState.FILLED
                or self.summary.quotes - start >= RUN_QUOTES
            )
        )
        self.step(
            f"resting buy {modified_id}: {self._state(modified_id)}"
            f" after {self.summary.quotes - start} quotes"
        )

        flat_id = self.new_id()
        await self.send(GoFlat(account_id=ACCOUNT, cl_order_id=flat_id))
        await self.until(
            lambda: (
                self.summary.net_qty == 0
                and not any(r.state.is_open for r in self.summary.orders.values())
            )
        )
        self.step(f"went flat ({flat_id}): working orders cancelled, position closed")

    def _state(self, *ids: str) -> OrderState | None:
        for cl_order_id in ids:
            report = self.report(cl_order_id)
            if report is not None and report.kind is not ReportKind.REJECTED:
                return report.state
        return None


def _live_view(demo: _Demo) -> Group:
    summary = demo.summary
    quote = summary.last_quote
    header = Text(f"ec demo - {summary.symbol} on the embedded mock exchange", style="bold")
    if quote is not None:
        bid = "-" if quote.bid is None else str(demo.price(quote.bid))
        ask = "-" if quote.ask is None else str(demo.price(quote.ask))
        market = Text(
            f"quotes {summary.quotes:>5}   bid {bid} x {quote.bid_size}"
            f"   ask {ask} x {quote.ask_size}"
        )
    else:
        market = Text("waiting for the market...")
    position = Text(f"position {summary.net_qty:+d}   fills {len(summary.fills)}")
    steps = Text("\n".join(f"  {s}" for s in summary.steps[-8:]))
    return Group(header, market, position, steps)


def summary_table(summary: DemoSummary, instrument: Instrument) -> Table:
    """The closing table: every order, fills, position and P&L."""
    table = Table(title=f"ec demo summary - {summary.symbol}")
    for column in ("order", "side", "type", "qty", "filled", "avg price", "state"):
        table.add_column(column)
    for report in summary.orders.values():
        table.add_row(
            "→".join(summary.chains.get(report.cl_order_id, [report.cl_order_id])),
            report.side.value if report.side else "",
            report.order_type.value if report.order_type else "",
            str(report.qty),
            str(report.filled_qty),
            "" if report.avg_fill_price is None else str(report.avg_fill_price),
            report.state.value,
        )
    return table


def totals_line(summary: DemoSummary, instrument: Instrument) -> str:
    """Fills, position and money (with currency), short enough for 80 columns."""
    realized = Decimal(0) if summary.position is None else summary.position.realized_pnl
    commission = sum((f.commission for f in summary.fills), Decimal(0))
    places, currency = money_places(instrument), instrument.currency
    return (
        f"fills {len(summary.fills)} · position {summary.net_qty:+d} · realized P&L"
        f" {format_money(realized, places, currency)} · commissions"
        f" {format_money(commission, places, currency)}"
    )


async def run_demo(
    host: PluginHost, seed: int = 7, symbol: str | None = None, *, console: Console | None = None
) -> DemoSummary:
    """Run the demo through ``host`` (the ``mock`` vendor) and print its progress and summary."""
    console = console or Console(highlight=False)
    settings = {"seed": seed, "account_id": ACCOUNT, "clock": "simulated", "market": True}
    async with host.open_session("mock", settings) as session:
        instrument = await session.resolve(symbol or DEMO_SYMBOL)
        executor = Executor(
            gateway=host.order_gateway(session),
            checks=ValidatorGate(host.validators()),
            tracker=OrderTracker(clock=_clock_of(session), host=host),
            journal=None,
            clock=_clock_of(session),
            vendor=session.vendor,
            instruments={instrument.symbol: instrument},
            host=host,
            monitor=host.trade_monitor(session),
        )
        demo = _Demo(session, executor, instrument)
        live: Live | None = None
        if console.is_terminal:
            live = Live(_live_view(demo), console=console, refresh_per_second=12, transient=True)
            demo.on_change = lambda: live.update(_live_view(demo)) if live is not None else None
            live.start()
        else:
            printed = 0

            def print_steps() -> None:
                nonlocal printed
                for text in demo.summary.steps[printed:]:
                    console.print(f"ec demo: {text}")
                printed = len(demo.summary.steps)

            demo.on_change = print_steps
        try:
            with anyio.fail_after(TIMEOUT_S):
                async with (
                    host.trade_monitor(session).stream(ACCOUNT) as executor_events,
                    executor.consume(executor_events),
                    anyio.create_task_group() as tasks,
                ):
                    _start(tasks, demo)
                    await demo.run()
                    tasks.cancel_scope.cancel()
        finally:
            if live is not None:
                live.stop()
                for text in demo.summary.steps:
                    console.print(f"ec demo: {text}")
        demo.summary.position = demo.summary.position or _flat(instrument)
        console.print(summary_table(demo.summary, instrument))
        console.print(totals_line(demo.summary, instrument))
        if demo.summary.errors:
            for error in demo.summary.errors:
                console.print(f"[red]ec demo: {error}")
        else:
            console.print("ec demo: done")
        return demo.summary


def _start(tasks: TaskGroup, demo: _Demo) -> None:
    tasks.start_soon(demo.follow_market)
    tasks.start_soon(demo.follow_trades)


def _clock_of(session: Session) -> Clock:
    """The venue's clock when the session has one (simulated time), else the wall clock."""
    return session.clock if isinstance(session, SupportsClock) else WallClock()


def _flat(instrument: Instrument) -> Position:
    return Position(account_id=ACCOUNT, symbol=instrument.symbol)
