"""Rolling statistics against a straightforward reference on random data."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from ec_core.data import RollingExtreme, RollingMoments, RollingStats
from hypothesis import given, settings
from hypothesis import strategies as st

values = st.lists(st.integers(-10_000, 10_000), min_size=1, max_size=200)


@settings(max_examples=80, deadline=None)
@given(xs=values, window=st.integers(1, 30))
def test_moments_match_reference(xs: list[int], window: int) -> None:
    moments = RollingMoments(window)
    for i, x in enumerate(xs):
        moments.push(float(x))
        tail = xs[max(0, i + 1 - window) : i + 1]
        assert moments.count == len(tail)
        assert moments.mean == pytest.approx(statistics.fmean(tail), abs=1e-9)
        if len(tail) >= 2:
            assert moments.std == pytest.approx(statistics.stdev(tail), rel=1e-9, abs=1e-7)
        else:
            assert moments.std is None


@settings(max_examples=80, deadline=None)
@given(xs=values, window=st.integers(1, 30))
def test_extremes_match_reference(xs: list[int], window: int) -> None:
    high = RollingExtreme(window, maximum=True)
    low = RollingExtreme(window, maximum=False)
    for i, x in enumerate(xs):
        high.push(x)
        low.push(x)
        tail = xs[max(0, i + 1 - window) : i + 1]
        assert high.value == max(tail)
        assert low.value == min(tail)


def test_a_flat_window_after_removals_has_std_zero_and_no_zscore() -> None:
    """Hypothesis found [0, 19, 19, 19] / window 3: a rounding residue gave std 1.2e-7."""
    moments = RollingMoments(3)
    for x in (0.0, 19.0, 19.0, 19.0):
        moments.push(x)
    assert moments.std == 0.0
    assert moments.zscore(19.0) is None
    moments.push(20.0)
    assert moments.std == pytest.approx(statistics.stdev([19, 19, 20]), rel=1e-12)


def test_variance_stays_accurate_at_large_offsets_over_many_updates() -> None:
    """The naive sum-of-squares formula loses every digit here; Welford must not."""
    rng = random.Random(7)
    moments = RollingMoments(50)
    xs = [1e9 + rng.random() for _ in range(20_000)]
    for x in xs:
        moments.push(x)
    tail = xs[-50:]
    assert moments.std == pytest.approx(statistics.stdev(tail), rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    bars=st.lists(
        st.tuples(st.integers(1, 1000), st.integers(0, 50), st.integers(0, 5)),
        min_size=1,
        max_size=80,
    ),
    window=st.integers(2, 10),
)
def test_rolling_stats_match_reference(bars: list[tuple[int, int, int]], window: int) -> None:
    stats = RollingStats(window)
    rows = []
    for close, volume, spread in bars:
        high, low, pv = close + spread, close - spread, close * volume
        stats.push(close, high, low, volume, pv)
        rows.append((close, high, low, volume, pv))
    tail = rows[-window:]
    closes = [float(r[0]) for r in tail]
    assert stats.mean == pytest.approx(statistics.fmean(closes))
    assert stats.high == max(r[1] for r in tail)
    assert stats.low == min(r[2] for r in tail)
    volume = sum(r[3] for r in tail)
    assert stats.vwap == (pytest.approx(sum(r[4] for r in tail) / volume) if volume else None)
    if len(rows) >= 2:
        assert stats.last_return == pytest.approx(rows[-1][0] / rows[-2][0] - 1.0)
        all_returns = [rows[i][0] / rows[i - 1][0] - 1.0 for i in range(1, len(rows))]
        assert stats.returns.mean == pytest.approx(statistics.fmean(all_returns[-window:]))
    else:
        assert stats.last_return is None
    if len(tail) >= 2 and statistics.stdev(closes) > 1e-9:
        expected = (closes[-1] - statistics.fmean(closes)) / statistics.stdev(closes)
        z = stats.zscore()
        assert z is not None
        assert math.isclose(z, expected, rel_tol=1e-6, abs_tol=1e-9)


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        RollingMoments(0)
    with pytest.raises(ValueError, match="window"):
        RollingExtreme(0, maximum=True)
