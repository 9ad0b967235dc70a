"""One bar as the seed API reads it (:class:`OHLC`) and which price draws bars
(:class:`BarSource`): the reading side of :class:`~ec_core.data.TickBuffer`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Final, final

__all__ = ["OHLC", "BarSource"]

_OHLC_KEYS: Final = ("Open", "High", "Low", "Close", "Volume")


class BarSource(StrEnum):
    """Which price draws the bars. Trades always add their size to the bar's volume."""

    MID = "MID"  # quote mid, rounded down to the tick grid
    BID = "BID"
    ASK = "ASK"
    TRADE = "TRADE"  # trade prints only; quotes just update bid/ask


@final
class OHLC(Mapping[str, Decimal]):
    """One bar as the seed API reads it: ``ohlc()['Close']`` is a Decimal price.

    The integer tick values are attributes (``close_ticks`` …) for code that
    compares in ticks and wants to skip the Decimal conversion.
    """

    __slots__ = (
        "close_ticks",
        "count",
        "high_ticks",
        "low_ticks",
        "open_ticks",
        "start_ns",
        "tick_size",
        "timeframe",
        "volume",
    )

    def __init__(
        self,
        *,
        timeframe: str,
        start_ns: int,
        open_ticks: int,
        high_ticks: int,
        low_ticks: int,
        close_ticks: int,
        volume: int,
        count: int,
        tick_size: Decimal,
    ) -> None:
        self.timeframe = timeframe
        self.start_ns = start_ns
        self.open_ticks = open_ticks
        self.high_ticks = high_ticks
        self.low_ticks = low_ticks
        self.close_ticks = close_ticks
        self.volume = volume
        self.count = count
        self.tick_size = tick_size

    def __getitem__(self, key: str) -> Decimal:
        if key == "Close":
            return self.tick_size * self.close_ticks
        if key == "Open":
            return self.tick_size * self.open_ticks
        if key == "High":
            return self.tick_size * self.high_ticks
        if key == "Low":
            return self.tick_size * self.low_ticks
        if key == "Volume":
            return Decimal(self.volume)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(_OHLC_KEYS)

    def __len__(self) -> int:
        return len(_OHLC_KEYS)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={self[k]}" for k in _OHLC_KEYS)
        return f"OHLC({self.timeframe}, {fields})"
