"""Seeded random-walk background liquidity and trading from a house account.

Each :meth:`MarketSimulator.step`, for every simulated instrument that is open:

1. the mid moves one tick down or up with probability ``volatility / 2`` each;
2. the house's resting orders are brought to ``depth`` levels each side of the
   new touch (``bid = mid``, ``ask = mid + spread_ticks``): orders off those levels
   are cancelled, empty levels get a new order of random size. Orders already at
   a wanted level are left alone, so they keep their queue position;
3. with probability ``trade_probability`` the house sends a marketable IOC order of
   random size at the touch on a random side, which prints a trade.

A user's limit order therefore fills when the walk moves through it (the new
house orders cross it) or when house trades eat the queue ahead of it.

A simulator started on an exchange that already has house liquidity (one restored
from a snapshot) takes the house's resting orders over as its own levels and numbers
its client ids after the ones the house already used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import final

from ec_core.model import Duration, OrderState, OrderType, Rounding, Side

from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_specs

__all__ = ["HOUSE_ACCOUNT", "MarketSimulator"]

HOUSE_ACCOUNT = "HOUSE"


@final
class _SymbolState:
    __slots__ = ("mid", "orders", "symbol")

    def __init__(self, symbol: str, mid: int) -> None:
        self.symbol = symbol
        self.mid = mid
        self.orders: dict[tuple[int, int], str] = {}  # (side, price) -> house cl id


@final
class MarketSimulator:
    """Drives ``exchange`` with seeded background flow for ``symbols`` (default: all)."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        seed: int = 0,
        symbols: Iterable[str] | None = None,
        house_account: str = HOUSE_ACCOUNT,
        depth: int = 5,
        spread_ticks: int = 1,
        level_qty: tuple[int, int] = (1, 20),
        volatility: float = 0.3,
        trade_probability: float = 0.3,
        trade_qty: tuple[int, int] = (1, 5),
        start_prices: Mapping[str, Decimal] | None = None,
    ) -> None:
        import random

        if depth < 1 or spread_ticks < 1:
            raise ValueError("depth and spread_ticks must be >= 1")
        self.exchange = exchange
        self.rng = random.Random(seed)
        self.house = house_account
        self.depth = depth
        self.spread = spread_ticks
        self.level_qty = level_qty
        self.volatility = volatility
        self.trade_probability = trade_probability
        self.trade_qty = trade_qty
        self.steps = 0
        self._next_cl = 1
        if not exchange.has_account(house_account):
            exchange.open_account(
                house_account, unlimited=True, name="house liquidity", retire_final_orders=True
            )
        references = {s.instrument.symbol: s.reference_price for s in builtin_specs()}
        chosen = (
            list(symbols) if symbols is not None else [i.symbol for i in exchange.instruments()]
        )
        self._states: list[_SymbolState] = []
        for symbol in chosen:
            instrument = exchange.instrument(symbol)
            if instrument is None:
                raise ValueError(f"unknown instrument {symbol!r}")
            mid = self._start_mid(symbol, (start_prices or {}).get(symbol), references.get(symbol))
            if mid is None:
                raise ValueError(
                    f"{symbol}: no start price (pass start_prices={{{symbol!r}: Decimal(...)}})"
                )
            self._states.append(_SymbolState(symbol, mid))
        self._adopt_house_orders()
        self._next_cl = self._first_free_cl()

    def _adopt_house_orders(self) -> None:
        """Track the house's resting limit orders (after a restore) as the walk's levels."""
        by_symbol = {state.symbol: state for state in self._states}
        for report in self.exchange.open_orders(self.house):
            state = by_symbol.get(report.symbol)
            instrument = self.exchange.instrument(report.symbol)
            if (
                state is None
                or instrument is None
                or report.order_type is not OrderType.LMT
                or report.limit_price is None
                or report.state not in (OrderState.WORKING, OrderState.PARTIALLY_FILLED)
            ):
                continue
            side = 1 if report.side is Side.BUY else -1
            key = (side, instrument.to_ticks(report.limit_price))
            state.orders.setdefault(key, report.cl_order_id)

    def _first_free_cl(self) -> int:
        """One past the highest ``H<n>`` among the house's open orders.

        The house keeps only its open orders (``retire_final_orders``): the ids of its
        finished ones are free again, so the used ids are no prefix to search, and
        starting at the first free one would hand out ``H1`` again. A simulator numbers
        upwards and a rename takes a fresh id, so this starts after every order placed
        before the newest one kept (the ids of orders finished after it are forgotten).
        :meth:`_cl` still skips any used id (a house that keeps every order).
        """
        highest = 0
        for report in self.exchange.open_orders(self.house):
            cl = report.cl_order_id
            if cl[:1] == "H" and cl[1:].isdigit():
                highest = max(highest, int(cl[1:]))
        return highest + 1

    def _start_mid(
        self, symbol: str, given: Decimal | None, reference: Decimal | None
    ) -> int | None:
        instrument = self.exchange.instrument(symbol)
        assert instrument is not None
        if given is not None:
            return instrument.to_ticks(given, Rounding.NEAREST)
        quote = self.exchange.best_quote(symbol)
        if quote is not None and quote.bid is not None:
            return quote.bid
        last = self.exchange.last_trade(symbol)
        if last is not None:
            return last.price
        if reference is not None:
            return instrument.to_ticks(reference, Rounding.NEAREST)
        return None

    def mid(self, symbol: str) -> int:
        """The walk's current mid (the house bid) in ticks."""
        for state in self._states:
            if state.symbol == symbol:
                return state.mid
        raise KeyError(symbol)

    def run(self, n: int) -> None:
        for _ in range(n):
            self.step()

    def step(self) -> None:
        rng = self.rng
        exchange = self.exchange
        for state in self._states:
            # Draw first, so a closed market does not shift the random sequence.
            move = rng.random()
            trade = rng.random()
            if move < self.volatility / 2:
                state.mid = max(state.mid - 1, self.depth + 1)
            elif move < self.volatility:
                state.mid += 1
            if not exchange.is_open(state.symbol):
                continue
            self._refresh(state)
            if trade < self.trade_probability:
                self._trade(state)
        self.steps += 1

    def _cl(self) -> str:
        used = self.exchange.client_id_used
        while True:
            cl = f"H{self._next_cl}"
            self._next_cl += 1
            if not used(self.house, cl):
                return cl

    def _refresh(self, state: _SymbolState) -> None:
        exchange = self.exchange
        bid = state.mid
        ask = state.mid + self.spread
        wanted = {(1, bid - i) for i in range(self.depth)} | {
            (-1, ask + i) for i in range(self.depth)
        }
        for key, cl in list(state.orders.items()):
            if key not in wanted or exchange.remaining_qty(self.house, cl) == 0:
                if key not in wanted and exchange.remaining_qty(self.house, cl):
                    exchange.cancel(self.house, cl)
                del state.orders[key]
        low, high = self.level_qty
        # Nearest levels first, bids then asks: a fixed order keeps runs repeatable.
        for i in range(self.depth):
            for side, price in ((1, bid - i), (-1, ask + i)):
                if (side, price) in state.orders:
                    continue
                cl = exchange.place(
                    self.house,
                    state.symbol,
                    Side.BUY if side > 0 else Side.SELL,
                    self.rng.randint(low, high),
                    OrderType.LMT,
                    price=price,
                    duration=Duration.GTC,
                    cl_order_id=self._cl(),
                )
                if exchange.remaining_qty(self.house, cl):
                    state.orders[(side, price)] = cl

    def _trade(self, state: _SymbolState) -> None:
        exchange = self.exchange
        buy = self.rng.random() < 0.5
        qty = self.rng.randint(*self.trade_qty)
        quote = exchange.best_quote(state.symbol)
        if quote is None:
            return
        price = quote.ask if buy else quote.bid
        if price is None:
            return
        exchange.place(
            self.house,
            state.symbol,
            Side.BUY if buy else Side.SELL,
            qty,
            OrderType.LMT,
            price=price,
            duration=Duration.IOC,
            cl_order_id=self._cl(),
        )
