"""Rolling statistics over the last N closed bars.

Statistics are analytics, not prices on the wire, so they are floats in *tick
units* (multiply by the instrument's tick size for a price). Prices themselves
stay integer ticks inside and :class:`~decimal.Decimal` at the edges.

Mean and variance use Welford's update with removal of the oldest value, which
stays accurate where the naive ``sum(x*x) - n*mean**2`` cancels catastrophically;
to stop rounding drift from accumulating over millions of updates the window is
recomputed exactly (two passes) once every ``window`` removals, which keeps the
cost O(1) amortised. Window highs and lows use monotonic deques (O(1) amortised).
"""

from __future__ import annotations

import math
from collections import deque
from typing import final

__all__ = ["RollingExtreme", "RollingMoments", "RollingStats"]


_RESIDUE = 1e-12
"""Below this share of n * mean², a removal's variance is rounding residue, recomputed exactly."""


@final
class RollingMoments:
    """Mean and sample variance of the last ``window`` values.

    ``mean`` is a plain attribute (``None`` while empty), set when a value is pushed:
    conditions read it on every tick, values arrive once per bar.
    """

    __slots__ = ("_m2", "_mean", "_removals", "_values", "mean", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._values: deque[float] = deque()
        self._mean = 0.0
        self._m2 = 0.0
        self._removals = 0
        self.mean: float | None = None

    def push(self, x: float) -> None:
        values = self._values
        if len(values) == self.window:
            old = values.popleft()
            n = len(values)
            if n == 0:
                self._mean = 0.0
                self._m2 = 0.0
            else:
                delta = old - self._mean
                self._mean -= delta / n
                self._m2 -= delta * (old - self._mean)
            self._removals += 1
        values.append(x)
        n = len(values)
        delta = x - self._mean
        self._mean += delta / n
        self._m2 += delta * (x - self._mean)
        if self._removals >= self.window or (
            self._removals and self._m2 <= _RESIDUE * n * self._mean * self._mean
        ):
            # Removing values leaves rounding residue in _m2: a flat window would show a std of
            # ~1e-7 instead of 0 and a z-score in the millions. Near zero, recompute exactly.
            self._recompute()
        self.mean = self._mean

    def _recompute(self) -> None:
        values = self._values
        n = len(values)
        mean = math.fsum(values) / n
        self._mean = mean
        self._m2 = math.fsum((v - mean) * (v - mean) for v in values)
        self._removals = 0

    @property
    def count(self) -> int:
        return len(self._values)

    @property
    def variance(self) -> float | None:
        """Sample variance (n - 1 in the denominator); ``None`` below two values."""
        n = len(self._values)
        if n < 2:
            return None
        return max(self._m2, 0.0) / (n - 1)

    @property
    def std(self) -> float | None:
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    def zscore(self, x: float) -> float | None:
        """How many standard deviations ``x`` lies from the window mean (``None`` if std is 0)."""
        std = self.std
        if not std:
            return None
        return (x - self._mean) / std


@final
class RollingExtreme:
    """Maximum (or minimum) of the last ``window`` values with a monotonic deque."""

    __slots__ = ("_index", "_items", "_maximum", "window")

    def __init__(self, window: int, *, maximum: bool) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._maximum = maximum
        self._items: deque[tuple[int, float]] = deque()
        self._index = 0

    def push(self, x: float) -> None:
        items = self._items
        if self._maximum:
            while items and items[-1][1] <= x:
                items.pop()
        else:
            while items and items[-1][1] >= x:
                items.pop()
        items.append((self._index, x))
        self._index += 1
        if items[0][0] <= self._index - 1 - self.window:
            items.popleft()

    @property
    def value(self) -> float | None:
        return self._items[0][1] if self._items else None


@final
class RollingStats:
    """Statistics of one timeframe over its last ``window`` closed bars.

    Fed once per closed bar (never per tick), so their cost does not touch the
    per-tick path.
    """

    __slots__ = (
        "_high",
        "_last_close",
        "_low",
        "_prev_close",
        "_pv",
        "_pv_sum",
        "_vol_sum",
        "_volumes",
        "closes",
        "returns",
        "window",
    )

    def __init__(self, window: int = 20) -> None:
        self.window = window
        self.closes = RollingMoments(window)
        self.returns = RollingMoments(window)
        self._high = RollingExtreme(window, maximum=True)
        self._low = RollingExtreme(window, maximum=False)
        self._volumes: deque[int] = deque()
        self._pv: deque[int] = deque()
        self._vol_sum = 0
        self._pv_sum = 0
        self._prev_close: float | None = None
        self._last_close: float | None = None

    def push(self, close: int, high: int, low: int, volume: int, pv: int) -> None:
        """Add one closed bar; ``pv`` is the sum of price * size of its trades (ticks)."""
        fclose = float(close)
        self.closes.push(fclose)
        prev = self._last_close
        if prev:
            self.returns.push(fclose / prev - 1.0)
        self._prev_close = prev
        self._last_close = fclose
        self._high.push(float(high))
        self._low.push(float(low))
        volumes, pvs = self._volumes, self._pv
        if len(volumes) == self.window:
            self._vol_sum -= volumes.popleft()
            self._pv_sum -= pvs.popleft()
        volumes.append(volume)
        pvs.append(pv)
        self._vol_sum += volume
        self._pv_sum += pv

    @property
    def count(self) -> int:
        return self.closes.count

    @property
    def mean(self) -> float | None:
        return self.closes.mean

    @property
    def std(self) -> float | None:
        return self.closes.std

    @property
    def high(self) -> float | None:
        """Highest high of the window."""
        return self._high.value

    @property
    def low(self) -> float | None:
        """Lowest low of the window."""
        return self._low.value

    @property
    def vwap(self) -> float | None:
        """Volume-weighted average traded price over the window; ``None`` with no volume."""
        return self._pv_sum / self._vol_sum if self._vol_sum else None

    @property
    def last_return(self) -> float | None:
        """Simple return of the last closed bar against the one before."""
        if self._prev_close and self._last_close is not None:
            return self._last_close / self._prev_close - 1.0
        return None

    def zscore(self, x: float | None = None) -> float | None:
        """z-score of ``x`` (default: the last close) against the window's closes."""
        value = self._last_close if x is None else x
        return None if value is None else self.closes.zscore(value)
