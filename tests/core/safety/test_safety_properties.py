"""Property tests: over random new orders and contexts, the checks pass exactly what an
independent, straightforward predicate (the oracle below) calls valid, and every denial
names a code, a field and a rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    GoFlat,
    Instrument,
    LiquidateAll,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Side,
)
from ec_core.safety import KillSwitchState
from ec_core.safety.activation import datetime_ns
from ec_core.validation import PreTradeContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_support import ACCOUNT, CL, ES, GC, NOW_NS, checks

INSTRUMENTS = {i.symbol: i for i in (CL, ES, GC)}
REFERENCE = {CL.symbol: Decimal("75.00"), ES.symbol: Decimal("4500.00"), GC.symbol: Decimal("2000")}
TIMES = [
    NOW_NS,  # Tuesday 09:00 CT: open
    datetime_ns(datetime(2023, 11, 14, 22, 30, tzinfo=UTC)),  # Tuesday 16:30 CT: break
    datetime_ns(datetime(2023, 11, 18, 15, 0, tzinfo=UTC)),  # Saturday
    datetime_ns(datetime(2023, 11, 20, 0, 30, tzinfo=UTC)),  # Sunday 18:30 CT: open
    datetime_ns(datetime(2023, 11, 15, 3, 0, tzinfo=UTC)),  # Tuesday 21:00 CT: open, UTC Wed
]

# What the support limits file says, restated by hand.
ALLOWED = {CL.symbol, ES.symbol}
MAX_QTY = {CL.symbol: 15, ES.symbol: 50}
MAX_POSITION = 20
MAX_NOTIONAL = Decimal(10_000_000)
MAX_OPEN_ACCOUNT, MAX_OPEN_INSTRUMENT = 25, 10


def _rarely(draw: st.DrawFn) -> bool:
    """True about one time in sixteen: most fields are valid, so most scenarios are close calls."""
    return draw(st.integers(0, 15)) == 7  # hypothesis favours the bounds: pick a middle value


@st.composite
def prices(draw: st.DrawFn, symbol: str, *, wanted: bool) -> Decimal | None:
    if wanted == _rarely(draw):
        return None
    instrument = INSTRUMENTS.get(symbol, CL)
    tick = instrument.tick_size
    spread = 120 if instrument is CL else 500  # ticks: CL's band is 100 ticks, ES's 2.5 % = 450
    price = REFERENCE.get(symbol, Decimal(75)) + draw(st.integers(-spread, spread)) * tick
    if _rarely(draw):
        price += tick / 2
    return price


@st.composite
def open_orders(draw: st.DrawFn, symbol: str) -> list[Order]:
    found = []
    for i in range(draw(st.integers(0, 4))):
        side = draw(st.sampled_from(list(Side)))
        order_type = draw(st.sampled_from([OrderType.LMT, OrderType.STP]))
        price = draw(prices(symbol, wanted=True)) or REFERENCE.get(symbol, Decimal(75))
        found.append(
            Order(
                chain_id=f"w{i}",
                cl_order_id=f"w{i}",
                account_id=ACCOUNT,
                symbol=draw(st.sampled_from([symbol, symbol, CL.symbol])),
                side=side,
                order_type=order_type,
                qty=draw(st.integers(1, 8)),
                state=OrderState.WORKING,
                limit_price=price if order_type is OrderType.LMT else None,
                stop_price=price if order_type is OrderType.STP else None,
            )
        )
    return found


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[NewOrder, PreTradeContext, KillSwitchState]:
    symbol = (
        draw(st.sampled_from([GC.symbol, ""]))
        if _rarely(draw)
        else draw(st.sampled_from([CL.symbol, ES.symbol]))
    )
    order_type = draw(st.sampled_from(list(OrderType)))
    duration = (
        Duration.GTD if draw(st.integers(0, 3)) == 0 else draw(st.sampled_from(list(Duration)))
    )
    gtd = None
    if (duration is Duration.GTD) != _rarely(draw):
        gtd = date(2023, 11, 14) + timedelta(days=draw(st.integers(-1, 3)))
    qty: Any = (
        draw(st.sampled_from([-1, 0, 1.5, True, 16, 51]))
        if _rarely(draw)
        else draw(st.integers(1, 12))
    )
    request = NewOrder(
        account_id="" if _rarely(draw) else ACCOUNT,
        symbol=symbol,
        side="BUY" if _rarely(draw) else draw(st.sampled_from(list(Side))),  # type: ignore[arg-type]
        qty=qty,
        order_type="LIMIT" if _rarely(draw) else order_type,  # type: ignore[arg-type]
        limit_price=draw(prices(symbol, wanted=order_type in (OrderType.LMT, OrderType.STL))),
        stop_price=draw(prices(symbol, wanted=order_type in (OrderType.STP, OrderType.STL))),
        duration="GTX" if _rarely(draw) else duration,  # type: ignore[arg-type]
        good_thru_date=gtd,
        cl_order_id="new",
    )
    context = PreTradeContext(
        now_ns=draw(st.sampled_from(TIMES)) if _rarely(draw) else NOW_NS,
        instrument=None if _rarely(draw) else INSTRUMENTS.get(symbol),
        position=Position(account_id=ACCOUNT, symbol=symbol, qty=draw(st.integers(-25, 25))),
        open_orders=tuple(draw(open_orders(symbol))),
        last_price=None if _rarely(draw) else REFERENCE.get(symbol, Decimal(75)),
    )
    state = (
        draw(st.sampled_from([KillSwitchState.REDUCING, KillSwitchState.HALTED]))
        if _rarely(draw)
        else KillSwitchState.ACTIVE
    )
    return request, context, state


def _session_open(instrument: Instrument, now_ns: int) -> bool:
    if instrument.trading_hours is None:
        return True
    local = datetime.fromtimestamp(now_ns / 1e9, ZoneInfo(instrument.trading_hours.timezone))
    evening = local.time() >= dtime(17, 0) and (local.weekday() + 1) % 7 in range(5)
    day = local.time() < dtime(16, 0) and local.weekday() in range(5)
    return evening or day


def _today(instrument: Instrument, now_ns: int) -> date:
    zone = "UTC" if instrument.trading_hours is None else instrument.trading_hours.timezone
    return datetime.fromtimestamp(now_ns / 1e9, ZoneInfo(zone)).date()


def oracle(request: NewOrder, ctx: PreTradeContext, state: KillSwitchState) -> bool:
    """A straightforward restatement of every rule for a new order."""
    r: Any = request
    instrument = ctx.instrument
    if r.account_id != ACCOUNT or r.symbol not in ALLOWED or instrument is None:
        return False
    if not isinstance(r.side, Side) or type(r.side) is not Side:
        return False
    if type(r.order_type) is not OrderType or type(r.duration) is not Duration:
        return False
    if type(r.qty) is not int or not 1 <= r.qty <= min(MAX_QTY[r.symbol], instrument.max_order_qty):
        return False
    wants_limit = r.order_type in (OrderType.LMT, OrderType.STL)
    wants_stop = r.order_type in (OrderType.STP, OrderType.STL)
    if (r.limit_price is not None) != wants_limit or (r.stop_price is not None) != wants_stop:
        return False
    for price in (r.limit_price, r.stop_price):
        if price is not None and (price / instrument.tick_size) % 1 != 0:
            return False
    if r.order_type is OrderType.STL:
        if r.side is Side.BUY and r.limit_price < r.stop_price:
            return False
        if r.side is Side.SELL and r.limit_price > r.stop_price:
            return False
    reference = ctx.last_price
    if reference is None and (r.limit_price is not None or r.stop_price is not None):
        return False  # both have a band; without a reference it denies (the default)
    if reference is not None:
        width = 100 * CL.tick_size if r.symbol == CL.symbol else reference * Decimal("2.5") / 100
        for price in (r.limit_price, r.stop_price):
            if price is not None and abs(price - reference) > width:
                return False
    value_price = r.limit_price or r.stop_price or reference
    if value_price is None or r.qty * abs(value_price) * instrument.multiplier > MAX_NOTIONAL:
        return False
    position = ctx.position.qty if ctx.position and ctx.position.symbol == r.symbol else 0
    same_side = sum(
        o.qty - o.filled_qty for o in ctx.open_orders if o.symbol == r.symbol and o.side is r.side
    )
    sign = 1 if r.side is Side.BUY else -1
    if sign * (position + sign * (same_side + r.qty)) > MAX_POSITION:
        return False
    if len(ctx.open_orders) + 1 > MAX_OPEN_ACCOUNT:
        return False
    if sum(1 for o in ctx.open_orders if o.symbol == r.symbol) + 1 > MAX_OPEN_INSTRUMENT:
        return False
    if (r.duration is Duration.GTD) != (r.good_thru_date is not None):
        return False
    if r.good_thru_date is not None and r.good_thru_date < _today(instrument, ctx.now_ns):
        return False
    if not _session_open(instrument, ctx.now_ns):
        return False
    if r.order_type in (OrderType.LMT, OrderType.MKT, OrderType.MTL):
        for o in ctx.open_orders:
            if o.symbol != r.symbol or o.side is r.side or o.order_type is not OrderType.LMT:
                continue
            if r.order_type is not OrderType.LMT:  # takes the best price: crosses any
                return False
            if r.side is Side.BUY and r.limit_price >= o.limit_price:
                return False
            if r.side is Side.SELL and r.limit_price <= o.limit_price:
                return False
    if state is KillSwitchState.HALTED:
        return False
    if state is KillSwitchState.REDUCING:
        after = position + sign * (same_side + r.qty)
        if position == 0 or sign * position > 0 or after * position < 0:
            return False
    return True


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_checks_pass_exactly_what_the_oracle_calls_valid(
    scenario: tuple[NewOrder, PreTradeContext, KillSwitchState],
) -> None:
    request, ctx, state = scenario
    c = checks()
    if state is not KillSwitchState.ACTIVE:
        c.kill_switch.set(state, "property test")
    violations = c.check(request, ctx)
    for violation in violations:
        assert violation.code
        assert violation.field
        assert violation.rule
    assert (not violations) == oracle(request, ctx, state), violations


@settings(max_examples=100)
@given(
    st.sampled_from(list(KillSwitchState)),
    st.sampled_from(
        [
            CancelOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="w0"),
            CancelAll(account_id=ACCOUNT),
            CancelAll(account_id=ACCOUNT, symbol=ES.symbol),
            LiquidateAll(account_id=ACCOUNT),
            GoFlat(account_id=ACCOUNT),
        ]
    ),
    st.sampled_from(TIMES),
    st.integers(-25, 25),
)
def test_exits_always_pass_valid_ones(
    state: KillSwitchState, request: Any, now_ns: int, position: int
) -> None:
    c = checks()
    c.kill_switch.set(state, "property test")
    ctx = PreTradeContext(
        now_ns=now_ns,
        instrument=None,
        position=Position(account_id=ACCOUNT, symbol=CL.symbol, qty=position),
    )
    assert c.check(request, ctx) == []
