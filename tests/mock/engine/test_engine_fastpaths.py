"""The engine's shortcuts change nothing anyone can see.

With no listener and no event log the engine builds no reports and no quotes and
decides the usual cancel without raising; prices are converted through per-symbol
caches. These tests run the same seeded flow (limit, market, stop, stop-limit, AON,
FOK/IOC orders, modifies, cancels of live and dead orders, prints from outside)
with and without listeners and compare everything that can be observed.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import msgspec
import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    Duration,
    ExecInstruction,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    Side,
    Trade,
    TradeEvent,
)
from ec_mock.engine import Exchange, RejectCode
from engine_support import ES, T0, ZN, Recorder, make_exchange, order
from hypothesis import given
from hypothesis import strategies as st

SYMBOLS = {"ES": ES, "ZN": ZN}
ENCODE = msgspec.json.Encoder(decimal_format="string").encode


def _flow(seed: int, n: int = 600) -> list[OrderRequest | tuple[str, int, int]]:
    """Seeded requests; a tuple ``(symbol, price, size)`` is a print from outside."""
    rng = random.Random(seed)
    placed: list[tuple[str, str, str]] = []
    out: list[OrderRequest | tuple[str, int, int]] = []
    for i in range(n):
        account = rng.choice(["A", "B"])
        symbol = rng.choice(["ES", "ES", "ZN"])
        inst = SYMBOLS[symbol]
        side = rng.choice([Side.BUY, Side.SELL])
        sign = 1 if side is Side.BUY else -1
        r = rng.random()
        if r < 0.5 or not placed:
            kind = rng.choice([OrderType.LMT] * 6 + [OrderType.MKT, OrderType.STP, OrderType.STL])
            limit = inst.to_price(1000 + sign * rng.randint(-4, 2))
            stop = inst.to_price(1000 + sign * rng.randint(3, 6))
            out.append(
                NewOrder(
                    account_id=account,
                    symbol=symbol,
                    side=side,
                    qty=rng.randint(1, 6),
                    order_type=kind,
                    limit_price=limit if kind.needs_limit_price else None,
                    stop_price=stop if kind.needs_stop_price else None,
                    duration=rng.choice([Duration.DAY] * 5 + [Duration.IOC, Duration.FOK]),
                    exec_instructions=(
                        frozenset({ExecInstruction.AON}) if rng.random() < 0.1 else frozenset()
                    ),
                    cl_order_id=f"o{i}",
                )
            )
            placed.append((account, symbol, f"o{i}"))
        elif r < 0.7:
            account, symbol, cl = placed[-rng.randint(1, min(6, len(placed)))]
            out.append(
                CancelOrder(
                    account_id=account, symbol=symbol, orig_cl_order_id=cl, cl_order_id=f"c{i}"
                )
            )
        elif r < 0.9:
            account, symbol, cl = placed[-rng.randint(1, min(6, len(placed)))]
            out.append(
                ModifyOrder(
                    account_id=account,
                    symbol=symbol,
                    orig_cl_order_id=cl,
                    cl_order_id=f"m{i}",
                    qty=rng.choice([None, rng.randint(1, 8)]),
                    limit_price=rng.choice([None, inst.to_price(1000 + rng.randint(-4, 4))]),
                )
            )
            placed.append((account, symbol, f"m{i}"))
        else:
            out.append((symbol, 1000 + rng.randint(-5, 5), rng.randint(1, 6)))
    return out


def _run(ex: Exchange, flow: list[OrderRequest | tuple[str, int, int]]) -> None:
    for item in flow:
        if isinstance(item, tuple):
            symbol, price, size = item
            ex.apply_external_trade(symbol, price, size, counterparty="H")
        else:
            ex.submit(item)


def _observed(ex: Exchange, flow: list[OrderRequest | tuple[str, int, int]]) -> bytes:
    parts = [ENCODE(ex.snapshot())]
    for account in ("A", "B", "H"):
        parts.append(ENCODE(ex.account(account)))
        parts.append(ENCODE(ex.positions(account)))
        parts.append(ENCODE(ex.open_orders(account)))
    for item in flow:
        if isinstance(item, NewOrder | ModifyOrder):
            parts.append(ENCODE(ex.order_status(item.account_id, item.cl_order_id)))
    for symbol in SYMBOLS:
        parts.append(ENCODE(ex.book(symbol)))
    return b"\n".join(parts)


def _exchange(*, record: bool) -> Exchange:
    ex = Exchange(instruments=[ES, ZN], clock=ManualClock(T0), record=record)
    for account in ("A", "B"):
        ex.open_account(account, commission_per_contract=Decimal("1.5"))
    ex.open_account("H", unlimited=True)
    return ex


def test_nobody_listening_changes_no_outcome() -> None:
    for seed in range(4):
        flow = _flow(seed)
        heard = _exchange(record=True)
        heard.add_listener(Recorder())
        silent = _exchange(record=False)
        _run(heard, flow)
        _run(silent, flow)
        assert _observed(silent, flow) == _observed(heard, flow)
        fills = [e for e in heard.event_log if getattr(e, "kind", None) is ReportKind.FILL]
        assert len(fills) > 50  # the flow trades, stops fire, AON waits


def test_a_listener_added_late_hears_what_one_there_from_the_start_hears() -> None:
    flow = _flow(7)
    early, late = _exchange(record=False), _exchange(record=False)
    from_start, joined = Recorder(), Recorder()
    early.add_listener(from_start)
    _run(early, flow[:300])
    _run(late, flow[:300])
    skip_trade, skip_market = len(from_start.trade), len(from_start.market)
    late.add_listener(joined)  # quotes were not computed until now
    _run(early, flow[300:])
    _run(late, flow[300:])
    assert joined.trade == from_start.trade[skip_trade:]
    assert joined.market == from_start.market[skip_market:]
    assert any(isinstance(m, Quote) for m in joined.market)


def test_a_float_equal_to_a_cached_price_is_still_refused() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("d", Side.BUY, 1, "4499.5"))  # caches Decimal("4499.5")
    ex.submit(
        NewOrder(
            account_id="A",
            symbol="ES",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.LMT,
            limit_price=4499.5,  # type: ignore[arg-type]
            cl_order_id="f",
        )
    )
    assert rec.last("d").kind is ReportKind.ACCEPTED
    assert rec.last("f").reject_code == RejectCode.PRICE_OFF_TICK


def test_redefining_an_instrument_drops_its_cached_prices() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("a", Side.BUY, 1, "4499.5"))
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="a"))
    ex.add_instrument(Instrument(symbol="ES", tick_size=Decimal("0.5"), max_order_qty=100))
    ex.submit(order("b", Side.BUY, 1, "4499.5"))
    ex.submit(order("c", Side.BUY, 1, "4499.25"))
    assert ex.book("ES").bids[0].price == 8999  # 4499.5 / 0.5, not / 0.25
    assert rec.last("b").limit_price == Decimal("4499.5")
    assert rec.last("c").reject_code == RejectCode.PRICE_OFF_TICK


def test_a_stop_fires_with_nobody_listening() -> None:
    ex = _exchange(record=False)
    ex.submit(order("s0", Side.SELL, 1, "4500", account="B"))
    ex.submit(order("b0", Side.BUY, 1, "4500", account="B"))  # last trade 4500
    ex.submit(order("stop", Side.BUY, 1, stop="4500.25", order_type=OrderType.STP))
    ex.submit(order("s1", Side.SELL, 2, "4500.25", account="B"))
    ex.submit(order("b1", Side.BUY, 1, "4500.25", account="B"))  # prints 4500.25: fires it
    status = ex.order_status("A", "stop")
    assert status is not None
    assert status.filled_qty == 1
    assert status.avg_fill_price == Decimal("4500.25")


def test_a_listener_that_leaves_and_comes_back_hears_what_a_steady_one_hears() -> None:
    """While nobody listens the engine does not settle; what it skipped is caught up."""
    flow = _flow(11)
    steady, flaky = _exchange(record=False), _exchange(record=False)
    always, sometimes = Recorder(), Recorder()
    steady.add_listener(always)
    flaky.add_listener(sometimes)
    _run(steady, flow[:200])
    _run(flaky, flow[:200])
    flaky.remove_listener(sometimes)
    _run(steady, flow[200:400])
    _run(flaky, flow[200:400])
    skip_trade, skip_market = len(always.trade), len(always.market)
    heard_trade, heard_market = len(sometimes.trade), len(sometimes.market)
    flaky.add_listener(sometimes)
    _run(steady, flow[400:])
    _run(flaky, flow[400:])
    assert sometimes.trade[heard_trade:] == always.trade[skip_trade:]
    assert sometimes.market[heard_market:] == always.market[skip_market:]
    assert _observed(flaky, flow) == _observed(steady, flow)


def test_a_new_event_log_list_is_recorded_into() -> None:
    ex = _exchange(record=True)
    ex.submit(order("a", Side.BUY, 1, "4500"))
    first = ex.event_log
    ex.event_log = []
    ex.submit(order("b", Side.BUY, 1, "4500.25"))
    assert [getattr(e, "cl_order_id", None) for e in ex.event_log] == ["b", None]  # + quote
    assert [getattr(e, "cl_order_id", None) for e in first] == ["a", None]
    assert ex.event_log_bytes().count(b"\n") == 2


def test_events_a_failing_listener_did_not_get_arrive_with_the_next_request() -> None:
    fragile_ex, steady_ex = _exchange(record=False), _exchange(record=False)
    steady = Recorder()
    steady_ex.add_listener(steady)

    class Fragile(Recorder):
        def on_trade_event(self, event: TradeEvent) -> None:
            super().on_trade_event(event)
            if len(self.trade) == 1:
                raise RuntimeError("listener bug")

    fragile = Fragile()
    fragile_ex.add_listener(fragile)
    first = order("s", Side.SELL, 1, "4500", account="B")
    with pytest.raises(RuntimeError, match="listener bug"):
        fragile_ex.submit(first)  # its ACCEPTED report raises; the quote is left waiting
    steady_ex.submit(first)
    assert len(fragile.market) == 0
    for exchange in (fragile_ex, steady_ex):
        exchange.submit(order("b", Side.BUY, 1, "4500"))
    assert fragile.trade == steady.trade  # nothing lost, nothing repeated, in order
    assert fragile.market == steady.market


def test_a_gtd_order_of_a_restored_exchange_expires_on_its_date() -> None:
    ex = _exchange(record=True)
    ex.submit(
        order("g", Side.BUY, 1, "4500", duration=Duration.GTD, good_thru_date=date(2024, 1, 10))
    )
    restored = Exchange.restore(ex.snapshot(), clock=ManualClock(T0))
    restored.advance_to(T0 + 2 * 24 * 3600 * 1_000_000_000)
    status = restored.order_status("A", "g")
    assert status is not None
    assert status.state is OrderState.EXPIRED
    assert [type(e).__name__ for e in restored.event_log][:1] == ["ExecutionReport"]


class _TradesOnly(Recorder):
    """A listener whose class says it ignores quotes and prints."""

    hears_market_events = False

    def on_market_event(self, event: Quote | Trade) -> None:
        raise AssertionError("hears_market_events = False: never called for market events")


def test_a_listener_that_hears_no_market_events_gets_every_trade_event_and_no_quote() -> None:
    exchange, _clock, everything = make_exchange()
    trades_only = _TradesOnly()
    exchange.add_listener(trades_only)
    exchange.submit(order("b1", Side.BUY, 2, "4500.00"))
    exchange.submit(order("s1", Side.SELL, 1, "4500.00", account="B"))
    exchange.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1"))
    assert everything.market  # quotes and a print were published
    assert trades_only.trade == everything.trade  # the same trade events, in order
    exchange.remove_listener(everything)
    exchange.submit(order("b2", Side.BUY, 1, "4499.00"))  # only the opt-out listener is left
    assert trades_only.trade[-1].cl_order_id == "b2"  # type: ignore[union-attr]


ODD_PRICES = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.sampled_from([Decimal(x) for x in ("sNaN", "-0", "1E+999999", "4500.25", "4500.1")]),
    st.floats(),
    st.integers(-5, 5),
    st.just("4500.25"),
)  # fmt: skip


@given(price=ODD_PRICES, symbol=st.sampled_from(["ES", "ZN", "NOPE"]))
def test_ticks_of_reads_a_limit_price_as_order_entry_does(price: object, symbol: str) -> None:
    # The replay venue asks ticks_of what a request would take before it submits it: a price
    # it reads as None must be one order entry refuses, and one it reads is the order's price.
    exchange, _clock, recorder = make_exchange()
    ticks = exchange.ticks_of(symbol, price)  # type: ignore[arg-type]
    exchange.submit(
        NewOrder(account_id="A", symbol=symbol, side=Side.BUY, qty=1, order_type=OrderType.LMT,
                 limit_price=price, cl_order_id="t1")  # type: ignore[arg-type]
    )  # fmt: skip
    [*_, report] = recorder.reports("t1")
    if ticks is None:
        assert report.kind is ReportKind.REJECTED
        assert report.reject_code in (RejectCode.PRICE_OFF_TICK, RejectCode.UNKNOWN_INSTRUMENT)
    else:
        assert report.reject_code != RejectCode.PRICE_OFF_TICK
        assert report.limit_price == SYMBOLS[symbol].to_price(ticks)
