"""Micro-benchmark of pre-trade validation: µs per ``PreTradeChecks.check`` with every
built-in rule on, per rule, and against a floor (a trivial function call) measured in
the same run.

    uv run python benchmarks/bench_validation.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

import msgspec
from ec_core.clock import WallClock
from ec_core.model import (
    Instrument,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Side,
    TradingHours,
)
from ec_core.safety import Limits, PreTradeChecks, StaticLimits
from ec_core.safety.rules import builtin_validators
from ec_core.validation import PreTradeContext, ValidatorRegistry

LIMITS = """
[aliases]
ES = "F.US.EP*"
[defaults]
max_order_qty = 50
max_position = 100
max_order_notional = 50_000_000
max_open_orders = 100
price_band_ticks = 200
[instruments.ES]
[accounts."*"]
max_open_orders = 200
orders_per_second = 1_000_000
orders_per_minute = 10_000_000
daily_loss_reduce_at = 2000
daily_loss_halt_at = 5000
"""


def _setup() -> tuple[PreTradeChecks, NewOrder, PreTradeContext, ValidatorRegistry]:
    instrument = Instrument(
        symbol="F.US.EPZ23",
        tick_size=Decimal("0.25"),
        multiplier=Decimal(50),
        trading_hours=TradingHours(
            timezone="UTC", open=dtime(0, 0), close=dtime(0, 0), weekdays=tuple(range(7))
        ),
    )
    registry = ValidatorRegistry()
    for validator in builtin_validators():
        registry.add(validator)
    checks = PreTradeChecks(
        registry, limits=StaticLimits(Limits.from_toml(LIMITS)), clock=WallClock()
    )
    working = tuple(
        Order(
            chain_id=f"w{i}",
            cl_order_id=f"w{i}",
            account_id="ACC1",
            symbol=instrument.symbol,
            side=Side.BUY if i % 2 else Side.SELL,
            order_type=OrderType.LMT,
            qty=1,
            state=OrderState.WORKING,
            limit_price=Decimal("4490") if i % 2 else Decimal("4510"),
        )
        for i in range(4)
    )
    request = NewOrder(
        account_id="ACC1",
        symbol=instrument.symbol,
        side=Side.BUY,
        qty=2,
        order_type=OrderType.LMT,
        limit_price=Decimal("4500.25"),
        cl_order_id="b1",
    )
    context = PreTradeContext(
        now_ns=time.time_ns(),
        instrument=instrument,
        position=Position(account_id="ACC1", symbol=instrument.symbol, qty=3),
        open_orders=working,
        last_price=Decimal("4500"),
    )
    return checks, request, context, registry


def _per_call_us(fn: Callable[[], object], calls: int, repeats: int) -> dict[str, float]:
    """p50/min/max over ``repeats`` batches of ``calls`` calls, in µs per call."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls / 1000)
    return {
        "p50_us": statistics.median(samples),
        "min_us": min(samples),
        "max_us": max(samples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a few seconds)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/bench_validation.json")
    )
    args = parser.parse_args(argv)
    calls, repeats = (2_000, 7) if args.quick else (20_000, 15)

    checks, request, context, registry = _setup()
    assert checks.check(request, context) == [], checks.check(request, context)

    def floor() -> None:
        return None

    results: dict[str, object] = {
        "python": sys.version.split()[0],
        "calls_per_batch": calls,
        "batches": repeats,
    }
    # the context the validators see inside check(): limits resolved for the request
    resolved = checks.limits_source.current(0).resolve(request.account_id, request.symbol)
    full_context = msgspec.structs.replace(context, limits=resolved)
    rules: dict[str, dict[str, float]] = {}
    for validator in registry:
        rules[validator.name] = _per_call_us(
            functools.partial(validator.validate, request, full_context), calls // 2, repeats
        )
    results["per_rule"] = rules
    floor_us = _per_call_us(floor, calls, repeats)["p50_us"]
    results["floor"] = {"p50_us": floor_us}
    check_us = _per_call_us(lambda: checks.check(request, context), calls, repeats)["p50_us"]
    results["check_all_rules"] = {"p50_us": check_us}
    results["check_vs_floor"] = check_us / floor_us

    print(f"floor (trivial call)   {floor_us:8.3f} µs")
    print(f"check, all rules       {check_us:8.3f} µs   ({check_us / floor_us:6.1f} x floor)")
    for name, figures in rules.items():
        print(f"  {name:20} {figures['p50_us']:8.3f} µs   ({figures['p50_us'] / floor_us:6.1f} x)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
