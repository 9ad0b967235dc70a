"""A failing strategy: logged once per distinct error at the user's line, counted, disabled.

A ``generate()`` that raises on every tick used to log (and report) one line per tick.
Now each distinct error is logged once with the file:line of the user's code and a
count of repeats; after ``max_consecutive_failures`` failures in a row the strategy is
disabled (its signals already running go on). ``generate()`` is not called for a symbol
before its feed has a price.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from ec_core.data import FeedSet
from ec_core.model import Quote
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext, StrategyEngine
from strategy_support import ACCOUNT, INSTRUMENT, SEC, SYMBOL, T0, quote

HERE = __file__


class Failing(OpStrategy):
    """Raises on the ticks whose index is in ``failing`` (all of them by default)."""

    def __init__(self, failing: set[int] | None = None) -> None:
        super().__init__(symbols=[SYMBOL])
        self.calls = 0
        self.failing = failing

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        self.calls += 1
        if self.failing is None or self.calls in self.failing:
            raise RuntimeError("bad strategy")  # the line the report names
        return None


RAISE_LINE = next(
    i
    for i, line in enumerate(Path(HERE).read_text(encoding="utf-8").splitlines(), 1)
    if "the line the report" in line
)
AT = f"test_strategy_failures.py:{RAISE_LINE}"


def engine_for(strategy: OpStrategy, max_consecutive_failures: int = 10) -> StrategyEngine:
    return StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [strategy],
        account_id=ACCOUNT,
        max_consecutive_failures=max_consecutive_failures,
    )


def test_a_repeated_error_is_one_report_with_a_count_and_the_users_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    strategy = Failing()
    engine = engine_for(strategy, max_consecutive_failures=1000)
    with caplog.at_level(logging.ERROR, logger="ec_core.strategy.engine"):
        for i in range(50):
            engine.on_event(quote(T0 + i * SEC, 100))
    (report,) = engine.errors
    assert report.count == 50
    assert report.where == "generate"
    assert report.at.endswith(AT)
    assert report.error == "RuntimeError: bad strategy"
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1
    assert AT in logged[0]
    assert "RuntimeError: bad strategy" in logged[0]
    assert engine.failed


def test_a_strategy_failing_in_a_row_is_disabled(caplog: pytest.LogCaptureFixture) -> None:
    strategy = Failing()
    engine = engine_for(strategy, max_consecutive_failures=5)
    with caplog.at_level(logging.ERROR, logger="ec_core.strategy.engine"):
        for i in range(30):
            engine.on_event(quote(T0 + i * SEC, 100))
    assert strategy.calls == 5  # not called again once disabled
    assert engine.disabled == {
        "Failing": "5 consecutive failures, last: RuntimeError: bad strategy"
    }
    assert engine.errors[0].count == 5
    assert engine.events == 30  # the ticks go on
    assert any(
        "Failing disabled after 5 consecutive failures" in r.getMessage() for r in caplog.records
    )


def test_failures_with_successes_between_do_not_disable() -> None:
    strategy = Failing(failing={1, 3, 5, 7, 9, 11})
    engine = engine_for(strategy, max_consecutive_failures=2)
    for i in range(12):
        engine.on_event(quote(T0 + i * SEC, 100))
    assert strategy.calls == 12
    assert engine.disabled == {}
    assert engine.errors[0].count == 6


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_consecutive_failures must be >= 1"):
        engine_for(Failing(), max_consecutive_failures=0)


class Recording(OpStrategy):
    def __init__(self) -> None:
        super().__init__(symbols=[SYMBOL])
        self.closes: list[object] = []

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        self.closes.append(ctx.feeds[symbol].tick_buffer.close)  # NoDataError before a price
        return None


def test_generate_is_not_called_before_the_feed_has_a_price() -> None:
    strategy = Recording()
    engine = engine_for(strategy)
    one_sided = Quote(symbol=SYMBOL, ts_ns=T0, bid=100, ask=None, bid_size=1, ask_size=0)
    engine.on_event(one_sided)  # mid-drawn bars: no price from a one-sided quote
    assert strategy.closes == []
    engine.on_event(quote(T0 + SEC, 100))
    engine.on_event(quote(T0 + 2 * SEC, 101))
    assert len(strategy.closes) == 2
    assert not engine.errors


def test_a_denial_repeated_with_other_values_is_one_report_counted() -> None:
    from ec_core.errors import OrderDeniedError, Violation
    from ec_core.strategy.failures import FailureLog

    log = FailureLog()
    for i in range(5):
        denial = OrderDeniedError(
            [Violation(code="PRICE_BAND", field="limit_price", rule="inside band", value=100 + i)]
        )
        first = log.record(T0 + i, "order", "Scalp", f"sig{i}", denial)
        assert (first is not None) == (i == 0)
    (report,) = log.reports
    assert report.count == 5
    assert report.last_ns == T0 + 4
    assert "PRICE_BAND" in report.error


class Garbage(OpStrategy):
    """``generate`` returns what is not a signal (EC_API code returning a tree, a tuple...)."""

    def __init__(self) -> None:
        super().__init__(symbols=[SYMBOL])

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return 42  # type: ignore[return-value]


def test_generate_returning_something_else_is_an_error_saying_what_it_must_return() -> None:
    strategy = Garbage()
    engine = engine_for(strategy)
    engine.on_event(quote(T0, 100))
    (report,) = engine.errors
    assert report.where == "generate"
    assert report.error == (
        "UserCodeError: Garbage.generate returned int (42): it must return an OpSignal or None"
    )
    assert report.at.endswith(
        f"test_strategy_failures.py:{Garbage.generate.__code__.co_firstlineno}"
    )
    assert strategy.produced == 0
