"""``strategy_rig``: run a strategy on the mock venue in a test, ticks written by hand.

The fixture of ec-mock's pytest plugin returns a :class:`StrategyRig`: it builds
ticks from decimal prices (``rig.quote("CLE", 1, "70.20", "70.21")``, seconds after
a time every built-in contract trades) and runs a strategy over them with
:func:`ec_core.testing.strategy.run_strategy` (``ec replay`` as a function: the real
executor, checks, matching and tracker; a hard deadline, never a hang).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

from ec_core.model import Instrument, MarketEvent, Quote, Side, Trade

from ec_mock.vendor.venue import SIM_START_NS

if TYPE_CHECKING:
    from ec_core.strategy import OpStrategy
    from ec_core.strategy.loader import StrategyPlan
    from ec_core.testing.strategy import StrategyRun

__all__ = ["StrategyRig"]

_SEC = 1_000_000_000


@final
class StrategyRig:
    """Ticks from decimal prices, and a strategy run over them on the mock venue."""

    __slots__ = ("account_id", "instruments", "seed", "start_ns")

    def __init__(
        self,
        instruments: Iterable[Instrument],
        *,
        account_id: str,
        seed: int = 0,
        start_ns: int = SIM_START_NS,
    ) -> None:
        self.instruments = {i.symbol: i for i in instruments}
        self.account_id = account_id
        self.seed = seed
        self.start_ns = start_ns  # second 0 of the ticks built here

    def _ticks(self, symbol: str, price: Decimal | str | int, field: str) -> int:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise ValueError(
                f"{field}: unknown symbol {symbol!r} (listed: {sorted(self.instruments)})"
            )
        return instrument.to_ticks(Decimal(price))

    def at(self, second: float) -> int:
        """The tick time ``second`` seconds after the rig's start."""
        return self.start_ns + round(second * _SEC)

    def quote(
        self,
        symbol: str,
        second: float,
        bid: Decimal | str | int,
        ask: Decimal | str | int,
        size: int = 10,
    ) -> Quote:
        """A top-of-book quote (prices on the instrument's grid, else ``ValueError``)."""
        return Quote(
            symbol=symbol,
            ts_ns=self.at(second),
            bid=self._ticks(symbol, bid, "bid"),
            ask=self._ticks(symbol, ask, "ask"),
            bid_size=size,
            ask_size=size,
        )

    def trade(
        self,
        symbol: str,
        second: float,
        price: Decimal | str | int,
        size: int = 1,
        aggressor: Side | None = None,
    ) -> Trade:
        """A recorded print: the venue's fill model decides which resting orders it fills."""
        return Trade(
            symbol=symbol,
            ts_ns=self.at(second),
            price=self._ticks(symbol, price, "price"),
            size=size,
            aggressor=aggressor,
        )

    async def run(
        self,
        strategy: OpStrategy | Sequence[OpStrategy] | StrategyPlan,
        ticks: str | Path | Iterable[MarketEvent],
        **options: Any,
    ) -> StrategyRun:
        """Run ``strategy`` over ``ticks``; ``options`` go to ``run_strategy``
        (``deadline_s``, ``timeframes``, ``vendor_settings``...)."""
        from ec_core.testing.strategy import run_strategy

        options.setdefault("account_id", self.account_id)
        options.setdefault("seed", self.seed)
        return await run_strategy(strategy, ticks, **options)
