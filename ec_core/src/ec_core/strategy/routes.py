"""Per-symbol plans of a :class:`~ec_core.strategy.engine.StrategyEngine`.

A tick of one symbol needs its tick buffer's handlers, the strategies that trade
the symbol and the live signals watching it: :class:`Route` holds them so the
engine's hot path makes one dict lookup per tick. :class:`SymbolRoutes` builds
the plans on a symbol's first tick, keeps a symbol's strategies out until its
feed has a price, and rebuilds every plan when a strategy is disabled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import final

from ec_core.data import TickBuffer
from ec_core.strategy.context import StrategyContext
from ec_core.strategy.signal import OpSignal
from ec_core.strategy.strategy import OpStrategy, QuietGate

__all__ = ["Ask", "Generate", "MaybeGenerate", "Route", "SymbolRoutes"]

Generate = Callable[[StrategyContext, str], OpSignal | None]
MaybeGenerate = Callable[[StrategyContext, str, int], OpSignal | None]
# how a route asks a strategy: its gate (``OpStrategy.quiet_gate``: ``quiet_until_ns``), the
# strategy, its bound ``generate`` when the gate is the whole check
# (``OpStrategy.gate_is_whole``), else ``None`` and its bound ``maybe_generate``
Ask = tuple[QuietGate, OpStrategy, Generate | None, MaybeGenerate]


def _ask(strategy: OpStrategy) -> Ask:
    generate = strategy.generate if strategy.gate_is_whole else None
    return (strategy.quiet_gate, strategy, generate, strategy.maybe_generate)


@final
class Route:
    """What a tick of one symbol needs, in one lookup: the per-symbol plan."""

    __slots__ = ("buffer", "live", "on_quote", "on_trade", "strategies", "symbol")

    def __init__(
        self,
        symbol: str,
        buffer: TickBuffer,
        strategies: Sequence[OpStrategy],
        live: list[OpSignal],
    ) -> None:
        self.symbol = symbol
        self.buffer = buffer
        self.on_quote = buffer.on_quote
        self.on_trade = buffer.on_trade
        self.strategies: tuple[Ask, ...] = tuple(_ask(s) for s in strategies)
        self.live = live  # signals watching the symbol, kept in place


@final
class SymbolRoutes:
    """The plans of every symbol seen so far; ``plans`` and ``unpriced`` are read by
    the engine's hot path (the same dict and set for the engine's life)."""

    def __init__(
        self, buffers: Mapping[str, TickBuffer], by_symbol: dict[str, tuple[OpStrategy, ...]]
    ) -> None:
        self._buffers = buffers
        self._by_symbol = by_symbol
        self.plans: dict[str, Route] = {}
        self.unpriced: set[str] = set()  # symbols whose strategies wait for a first price

    def build(self, symbol: str) -> Route | None:
        """Build the plan of ``symbol`` (``None``: no feed, the tick is dropped)."""
        buffer = self._buffers.get(symbol)
        if buffer is None:
            return None
        return self._set(symbol, buffer, [])

    def get(self, symbol: str) -> Route | None:
        """The plan of ``symbol``, built if it is the first time (``None``: no feed)."""
        return self.plans.get(symbol) or self.build(symbol)

    def _set(self, symbol: str, buffer: TickBuffer, live: list[OpSignal]) -> Route:
        """(Re)build the route; its strategies wait (``unpriced``) until the feed has a price."""
        strategies = self._by_symbol.get(symbol, ())
        if strategies and not buffer.has_data:
            self.unpriced.add(symbol)
            strategies = ()
        else:
            self.unpriced.discard(symbol)
        route = Route(symbol, buffer, strategies, live)
        self.plans[symbol] = route
        return route

    def priced(self, symbol: str) -> tuple[Ask, ...]:
        """The strategies of ``symbol`` once its feed has a price (none before)."""
        route = self.plans[symbol]
        return self._set(symbol, route.buffer, route.live).strategies

    def drop(self, strategy: OpStrategy) -> None:
        """``strategy`` was disabled: no plan asks it again."""
        self._by_symbol = {
            symbol: tuple(s for s in strategies if s is not strategy)
            for symbol, strategies in self._by_symbol.items()
        }
        for symbol, route in list(self.plans.items()):
            self._set(symbol, route.buffer, route.live)
