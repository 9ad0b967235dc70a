"""Invariants of the matching engine under random order flow (hypothesis).

After every request: the displayed book is never crossed and its level totals
match the orders in it; fills conserve quantity; each position is the signed sum
of its fills; P&L reconciles with a mark-to-market of the fills; balances
reconcile with realized P&L and commissions; makers at a price level fill in
FIFO order; a cancel of a filled order is rejected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from ec_core.model import (
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from ec_mock.engine import Exchange, RejectCode
from engine_support import ES, ZN, make_exchange
from hypothesis import given, settings
from hypothesis import strategies as st

ACCOUNTS = ("A", "B", "C")
SYMBOLS = {"ES": ES, "ZN": ZN}
BASE = 1000  # ticks around which prices wander

new_orders = st.tuples(
    st.just("new"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(sorted(SYMBOLS)),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 6),
    st.sampled_from([OrderType.LMT] * 6 + [OrderType.MKT, OrderType.STP, OrderType.STL]),
    st.integers(-4, 4),
    st.integers(1, 4),
    st.sampled_from([Duration.DAY, Duration.GTC, Duration.DAY, Duration.IOC, Duration.FOK]),
)
modifies = st.tuples(st.just("modify"), st.integers(0, 200), st.integers(-4, 4), st.integers(0, 8))
cancels = st.tuples(st.just("cancel"), st.integers(0, 200))
ops = st.lists(
    st.one_of(new_orders, new_orders, new_orders, modifies, cancels), min_size=20, max_size=80
)
aon_flags = st.lists(st.booleans(), min_size=80, max_size=80)


def _to_request(
    op: tuple[object, ...], n: int, placed: list[tuple[str, str, str]], aon: bool
) -> OrderRequest | None:
    if op[0] == "new":
        _, account, symbol, side, qty, kind, offset, stop_offset, duration = op
        assert isinstance(symbol, str)
        assert isinstance(side, Side)
        assert isinstance(kind, OrderType)
        assert isinstance(offset, int)
        assert isinstance(stop_offset, int)
        inst = SYMBOLS[symbol]
        sign = 1 if side is Side.BUY else -1
        # a positive offset is aggressive: buys above, sells below the base price
        limit = inst.to_price(BASE + sign * offset) if kind.needs_limit_price else None
        stop = (
            inst.to_price(BASE + sign * 6 + sign * stop_offset) if kind.needs_stop_price else None
        )
        cl = f"o{n}"
        placed.append((str(account), symbol, cl))
        return NewOrder(
            account_id=str(account),
            symbol=symbol,
            side=side,
            qty=int(qty),  # type: ignore[call-overload]
            order_type=kind,
            limit_price=limit,
            stop_price=stop,
            duration=duration,  # type: ignore[arg-type]
            exec_instructions=frozenset({ExecInstruction.AON}) if aon else frozenset(),
            cl_order_id=cl,
        )
    if not placed:
        return None
    index = int(op[1]) % len(placed)  # type: ignore[call-overload]
    account, symbol, cl = placed[index]
    if op[0] == "cancel":
        return CancelOrder(account_id=account, symbol=symbol, orig_cl_order_id=cl)
    _, _, offset, qty = op
    assert isinstance(offset, int)
    assert isinstance(qty, int)
    return ModifyOrder(
        account_id=account,
        symbol=symbol,
        orig_cl_order_id=cl,
        cl_order_id=f"m{n}",
        limit_price=SYMBOLS[symbol].to_price(BASE + offset) if offset else None,
        qty=qty or None,
    )


def _check_book(ex: Exchange) -> None:
    for symbol in SYMBOLS:
        view = ex.book(symbol)
        if view.bids and view.asks:
            assert view.bids[0].price < view.asks[0].price, f"{symbol} crossed: {view}"
        resting = ex.resting(symbol)
        totals: dict[tuple[Side | None, Decimal | None], int] = defaultdict(int)
        for report in resting:
            assert report.state in (OrderState.WORKING, OrderState.PARTIALLY_FILLED)
            totals[(report.side, report.limit_price)] += report.qty - report.filled_qty
        for side, levels in ((Side.BUY, view.bids), (Side.SELL, view.asks)):
            for level in levels:
                price = SYMBOLS[symbol].to_price(level.price)
                assert totals[(side, price)] == level.qty > 0


def _check_ledgers(ex: Exchange) -> None:
    fills = [e for e in ex.event_log if isinstance(e, ExecutionReport) and e.fill is not None]
    volume: dict[str, dict[Side, int]] = defaultdict(lambda: defaultdict(int))
    per_order: dict[tuple[str, str], int] = defaultdict(int)
    signed: dict[tuple[str, str], int] = defaultdict(int)
    cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    commissions: dict[str, Decimal] = defaultdict(Decimal)
    for report in fills:
        fill = report.fill
        assert fill is not None
        volume[fill.symbol][fill.side] += fill.qty
        per_order[(fill.account_id, fill.chain_id)] += fill.qty
        key = (fill.account_id, fill.symbol)
        signed[key] += fill.side.sign * fill.qty
        cash[key] -= fill.side.sign * fill.qty * fill.price
        commissions[fill.account_id] += fill.commission
    for symbol, sides in volume.items():
        assert sides[Side.BUY] == sides[Side.SELL], f"{symbol}: fills do not conserve qty"
    for (account, chain), qty in per_order.items():
        status = ex.order_status(account, chain)
        assert status is not None
        assert status.filled_qty == qty <= status.qty
    for account in ACCOUNTS:
        realized = Decimal(0)
        mark_to_market = Decimal(0)
        for position in ex.positions(account):
            key = (account, position.symbol)
            assert position.qty == signed[key]
            inst = SYMBOLS[position.symbol]
            last = ex.last_trade(position.symbol)
            assert last is not None
            mark = inst.to_price(last.price)
            realized += position.realized_pnl
            mark_to_market += (cash[key] + position.qty * mark) * inst.multiplier
        unrealized = ex.unrealized_pnl(account)
        ledger = ex._accounts[account]  # the running totals equal a recomputation
        assert ledger.unrealized_value == ledger.unrealized(ex._marks)
        assert ledger.margin_value == ledger.margin_used()
        assert realized + unrealized == mark_to_market
        balance = ex.account(account).balance
        assert balance == Decimal(1_000_000) + realized - commissions[account]


def _check_fifo(
    before: dict[str, list[ExecutionReport]], events: Sequence[object], ex: Exchange
) -> None:
    """Makers filled at a level form a prefix of its queue; all but the last fill whole."""
    filled: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        if isinstance(event, ExecutionReport) and event.fill is not None:
            filled[(event.account_id, event.chain_id)] += event.fill.qty
    for queue in before.values():
        levels: dict[tuple[Side | None, Decimal | None], list[ExecutionReport]] = defaultdict(list)
        for report in queue:
            levels[(report.side, report.limit_price)].append(report)
        for (_, price), level in levels.items():
            gap = False
            for report in level:
                after = ex.order_status(report.account_id, report.chain_id)
                assert after is not None
                if after.limit_price != price or after.qty != report.qty:
                    continue  # modified in this step: it left its place in the queue
                qty = filled[(report.account_id, report.chain_id)]
                if qty == 0:
                    gap = True
                    continue
                assert not gap, f"FIFO broken at {price}: {level}"
                if qty < report.qty - report.filled_qty:
                    gap = True


def _check_priority(
    ex: Exchange,
    before: dict[str, list[ExecutionReport]],
    priority: dict[tuple[str, str], int],
    step: int,
) -> None:
    """Resting queues are in arrival order, where a price change or a qty increase arrives anew."""
    for symbol in SYMBOLS:
        was = {(r.account_id, r.chain_id): (r.limit_price, r.qty) for r in before[symbol]}
        levels: dict[tuple[Side | None, Decimal | None], list[int]] = defaultdict(list)
        for report in ex.resting(symbol):
            key = (report.account_id, report.chain_id)
            old = was.get(key)
            if old is None or old[0] != report.limit_price or report.qty > old[1]:
                priority[key] = step
            levels[(report.side, report.limit_price)].append(priority[key])
        for level in levels.values():
            assert level == sorted(level), f"{symbol}: queue out of arrival order {level}"


def _check_fill_prices(events: Sequence[object]) -> None:
    for event in events:
        if isinstance(event, ExecutionReport) and event.fill is not None:
            limit = event.limit_price
            if limit is not None and event.order_type is OrderType.LMT:
                price = event.fill.price
                assert price <= limit if event.side is Side.BUY else price >= limit


@settings(max_examples=60, deadline=None)
@given(ops, aon_flags)
def test_engine_invariants_hold_under_random_flow(
    script: list[tuple[object, ...]], aon: list[bool]
) -> None:
    ex, _, _ = make_exchange(
        (ES, ZN), accounts=(), enforce_sessions=False, margins={"ES": Decimal(0), "ZN": Decimal(0)}
    )
    for account in ACCOUNTS:
        rate = Decimal("2.25") if account == "C" else Decimal(0)
        ex.open_account(account, commission_per_contract=rate)
    placed: list[tuple[str, str, str]] = []
    filled_before: set[tuple[str, str]] = set()
    priority: dict[tuple[str, str], int] = {}
    for n, op in enumerate(script):
        request = _to_request(op, n, placed, aon[n] and n % 7 == 0)
        if request is None:
            continue
        before = {s: ex.resting(s) for s in SYMBOLS}
        start = len(ex.event_log)
        ex.submit(request)
        events = ex.event_log[start:]
        key = (request.account_id, getattr(request, "orig_cl_order_id", ""))
        if isinstance(request, CancelOrder) and key in filled_before:
            rejects = [e for e in events if isinstance(e, ExecutionReport)]
            assert [r.reject_code for r in rejects] == [RejectCode.ORDER_FINAL]
        _check_book(ex)
        _check_fifo(before, events, ex)
        _check_priority(ex, before, priority, n)
        _check_fill_prices(events)
        for account, _, cl in placed:
            status = ex.order_status(account, cl)
            if status is not None and status.state is OrderState.FILLED:
                filled_before.add((account, cl))
        if n % 10 == 0:
            _check_ledgers(ex)
    _check_ledgers(ex)
