"""Validators that name the request types they judge are run only on those; those
that need resolved limits are not run on a context without any.

A cancel is not checked for prices, quantities or risk: the built-in rules say so with
``judges``, the registry leaves them out of a cancel's run, and each must in fact pass
every request of a type it does not list (a property over odd field values and a
context where every limit, order and instrument is present). A rule that declares
``needs_limits`` must pass every request when the context has no limits (a gate without a
limits file), so the registry's plan for such a context leaves it out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import PluginError, Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    Side,
)
from ec_core.safety import LimitsFile, PreTradeChecks
from ec_core.safety.rules import builtin_validators
from ec_core.validation import PreTradeContext, ValidatorRegistry, judges, needs_limits
from hypothesis import given
from hypothesis import strategies as st
from safety_support import (
    ACCOUNT,
    CL,
    NOW_NS,
    checks,
    codes,
    context,
    limits,
    new,
    order,
)
from safety_support import registry as builtin_registry

REQUEST_TYPES = (NewOrder, ModifyOrder, CancelOrder, CancelAll, LiquidateAll, GoFlat)
odd_text = st.one_of(st.just(""), st.just(ACCOUNT), st.just(CL.symbol), st.just("o1"), st.text())
odd_symbol = st.one_of(st.none(), odd_text)

others = st.one_of(
    st.builds(
        CancelOrder, account_id=odd_text, symbol=odd_text, orig_cl_order_id=odd_text,
        cl_order_id=odd_text,
    ),
    st.builds(CancelAll, account_id=odd_text, symbol=odd_symbol, cl_order_id=odd_text),
    st.builds(LiquidateAll, account_id=odd_text, symbol=odd_symbol, cl_order_id=odd_text),
    st.builds(GoFlat, account_id=odd_text, cl_order_id=odd_text),
)  # fmt: skip


def rich_context() -> PreTradeContext:
    """Everything a rule could look at is there: limits, open orders on both sides, a target."""
    working = (order(), order(chain_id="o2", cl_order_id="o2", side=Side.SELL,
                              limit_price=Decimal("75.10")))  # fmt: skip
    return context(
        open_orders=working,
        position=3,
        best_bid=Decimal("74.99"),
        best_ask=Decimal("75.01"),
        limits=limits().resolve(ACCOUNT, CL.symbol),
        target_order=working[0],
    )


@given(request=others)
def test_a_rule_passes_every_request_type_it_does_not_judge(request: OrderRequest) -> None:
    ctx = rich_context()
    for validator in builtin_validators():
        if not judges(validator, type(request)):
            assert tuple(validator.validate(request, ctx)) == (), validator.name


odd_price = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.just(Decimal("75.00")),
    st.just(Decimal("1e9")),
    st.just(Decimal("-5")),
)
odd_qty = st.one_of(st.integers(-3, 10**12), st.none(), st.just(True))
priced = st.one_of(
    st.builds(
        NewOrder, account_id=odd_text, symbol=odd_text, side=st.sampled_from(Side),
        qty=odd_qty, order_type=st.sampled_from(OrderType), limit_price=odd_price,
        stop_price=odd_price, duration=st.sampled_from(Duration), cl_order_id=odd_text,
    ),
    st.builds(
        ModifyOrder, account_id=odd_text, symbol=odd_text, orig_cl_order_id=odd_text,
        qty=odd_qty, limit_price=odd_price, stop_price=odd_price, cl_order_id=odd_text,
    ),
)  # fmt: skip


@given(request=st.one_of(priced, others))
def test_a_rule_that_needs_limits_passes_every_request_without_them(
    request: OrderRequest,
) -> None:
    # Everything but the limits: open orders on both sides, a position past any limit the
    # sample file sets, prices far from the request's, a target.
    ctx = msgspec.structs.replace(rich_context(), limits=None, last_price=Decimal("1"))
    for validator in builtin_validators():
        if needs_limits(validator):
            assert tuple(validator.validate(request, ctx)) == (), validator.name


def test_the_builtin_rules_that_need_limits_say_so() -> None:
    assert sorted(v.name for v in builtin_validators() if needs_limits(v)) == [
        "notional",
        "open_orders",
        "position",
        "price_band",
    ]


def test_the_builtin_rules_declare_what_they_judge() -> None:
    judged = {
        v.name: tuple(t.__name__ for t in REQUEST_TYPES if judges(v, t))
        for v in builtin_validators()
    }
    assert judged["required_fields"] == tuple(t.__name__ for t in REQUEST_TYPES)
    assert judged["open_orders"] == ("NewOrder",)
    assert judged["price_tick"] == ("NewOrder", "ModifyOrder")
    assert all(
        "CancelOrder" not in kinds for name, kinds in judged.items() if name != "required_fields"
    )


class Spy:
    def __init__(self, name: str, kinds: tuple[type, ...] | None) -> None:
        self.name = name
        if kinds is not None:
            self.judges = kinds
        self.seen: list[str] = []

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        self.seen.append(type(request).__name__)
        return ()


def test_the_registry_runs_a_rule_only_on_the_types_it_judges() -> None:
    registry = ValidatorRegistry()
    every, priced = Spy("every", None), Spy("priced", (NewOrder, ModifyOrder))
    registry.add(every)
    registry.add(priced)
    cancel = CancelOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1")
    modify = ModifyOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1", qty=2)
    for request in (cancel, modify, cancel):
        registry.run(request, context())
    assert every.seen == ["CancelOrder", "ModifyOrder", "CancelOrder"]
    assert priced.seen == ["CancelOrder", "ModifyOrder"]  # the first cancel: its first use
    # a change to the set is seen by the next run
    later = Spy("later", (CancelOrder,))
    registry.add(later)
    registry.run(cancel, context())
    assert later.seen == ["CancelOrder"]


def test_the_registry_leaves_a_rule_that_needs_limits_out_of_a_context_without_them() -> None:
    registry = ValidatorRegistry()
    every, limited = Spy("every", None), Spy("limited", None)
    limited.needs_limits = True  # type: ignore[attr-defined]
    registry.add(every)
    registry.add(limited)
    new_order = NewOrder(account_id=ACCOUNT, symbol=CL.symbol, side=Side.BUY, qty=1,
                         order_type=OrderType.MKT)  # fmt: skip
    registry.run(new_order, context())
    assert (every.seen, limited.seen) == (["NewOrder"], [])
    registry.run(new_order, context(limits=limits().resolve(ACCOUNT, CL.symbol)))
    assert (every.seen, limited.seen) == (["NewOrder", "NewOrder"], ["NewOrder"])
    # a change to the set is seen by the next run, with or without limits
    registry.remove("every")
    registry.run(new_order, context())
    assert every.seen == ["NewOrder", "NewOrder"]


@pytest.mark.parametrize(
    "kinds",
    [(), [NewOrder], NewOrder, ("NewOrder",), (NewOrder, int)],
    ids=["empty", "list", "bare-class", "name", "not-a-request"],
)
def test_a_judges_that_is_not_a_tuple_of_request_types_is_refused_when_added(
    kinds: object,
) -> None:
    # An empty or foreign ``judges`` would leave the rule out of every run (it would never
    # refuse anything), a list or a name would raise TypeError on the first order: both are
    # found where the plugin registers, with the rule named.
    registry = ValidatorRegistry()
    bad = Spy("odd_rule", None)
    bad.judges = kinds  # type: ignore[assignment]
    with pytest.raises(PluginError, match=r"validator 'odd_rule': judges must be"):
        registry.add(bad)
    assert registry.names() == []


# -- a rule that leaves out a type it does judge: told at first use ----------------------------


class Careless:
    """Says it judges new orders only, but refuses a modify to more than 5 lots."""

    name = "careless"
    judges = (NewOrder,)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        self.seen.append(type(request).__name__)
        if isinstance(request, ModifyOrder) and (request.qty or 0) > 5:
            return (Violation(code="TOO_BIG", field="qty", rule="must be <= 5", value=request.qty),)
        return ()


def test_a_rule_finding_fault_with_a_type_it_leaves_out_is_an_error_and_judges_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Its ``judges`` leaves ModifyOrder out: before, every modify skipped it, silently.
    registry = ValidatorRegistry()
    careless = Careless()
    registry.add(careless)
    big = ModifyOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1", qty=9)
    with caplog.at_level(logging.ERROR, logger="ec_core.validation"):
        [violation] = registry.run(big, context())
    assert violation.code == "TOO_BIG"  # the request it found fault with is denied
    [record] = caplog.records
    assert "validator 'careless' found fault with a ModifyOrder" in record.getMessage()
    assert "its judges (NewOrder) leaves out" in record.getMessage()
    assert "list ModifyOrder in its judges" in record.getMessage()
    assert [v.code for v in registry.run(big, context())] == ["TOO_BIG"]  # and every next one
    assert careless.seen == ["ModifyOrder", "ModifyOrder"]


def test_a_rule_passing_the_first_request_of_a_type_it_leaves_out_is_not_asked_again() -> None:
    registry = ValidatorRegistry()
    priced = Spy("priced", (NewOrder,))
    registry.add(priced)
    cancel = CancelOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1")
    for _ in range(3):
        assert registry.run(cancel, context()) == []
    assert priced.seen == ["CancelOrder"]
    registry.add(Spy("priced", (NewOrder,)), replace=True)  # a new rule under the name: asked
    registry.run(cancel, context())
    assert registry.plan("", CancelOrder) == ()


def test_a_rule_replaced_after_it_judged_a_type_it_leaves_out_is_shown_that_type_again() -> None:
    # What the registry learnt at first use belongs to the rule, not to its name.
    registry = ValidatorRegistry()
    registry.add(Careless())
    big = ModifyOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1", qty=9)
    small = msgspec.structs.replace(big, qty=1)
    assert codes(registry.run(big, context())) == {"TOO_BIG"}  # judges modifies from now on
    fresh = Spy("careless", (NewOrder,))
    registry.add(fresh, replace=True)
    for _ in range(2):
        assert registry.run(small, context()) == []
    assert fresh.seen == ["ModifyOrder"]  # shown the first one, and it passed: not again
    registry.remove("careless")
    assert registry.plan("", ModifyOrder) == ()


class Crashes:
    name = "crashes"
    judges = (NewOrder,)

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        assert isinstance(request, NewOrder)  # what a rule written for new orders may assume
        return ()


def test_a_rule_raising_on_a_type_it_leaves_out_never_denies_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ValidatorRegistry()
    registry.add(Crashes())
    cancel = CancelOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1")
    with caplog.at_level(logging.WARNING, logger="ec_core.validation"):
        assert registry.run(cancel, context()) == []  # a cancel is never held up by it
    assert "validator 'crashes' raised on a CancelOrder" in caplog.text
    assert registry.plan("", CancelOrder) == ()


def test_pre_trade_checks_see_the_first_use_of_a_rule_too() -> None:
    careless = Careless()
    guard = checks()
    guard.validators.add(careless)
    big = ModifyOrder(account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1", qty=9)
    for _ in range(2):
        assert "TOO_BIG" in codes(guard.check(big, context(open_orders=[order()])))


def test_limits_loaded_after_the_plan_was_built_bring_the_rules_that_need_them_back(
    tmp_path: Path,
) -> None:
    # The same order passes while the file sets no limit (its plan is built and cached),
    # and is refused by each rule that needs limits once a reload sets them: no plan keeps
    # a rule out because the limits were absent when it was built.
    path = tmp_path / "limits.toml"
    path.write_text('[instruments."*"]\n[accounts."*"]\n', encoding="utf-8")
    clock = ManualClock(NOW_NS)
    guard = PreTradeChecks(
        builtin_registry(), limits=LimitsFile(path, clock=clock, poll_interval_ms=0), clock=clock
    )
    request = new(qty=1, limit_price=Decimal("75.50"))
    ctx = context(open_orders=[order()])  # a working buy of 5 at 74.50, last trade 75.00
    for _ in range(2):
        assert guard.check(request, ctx) == []
    path.write_text(
        '[instruments."*"]\nmax_position = 1\nmax_order_notional = 1000\nmax_open_orders = 1\n'
        'price_band_ticks = 1\n[accounts."*"]\n',
        encoding="utf-8",
    )
    stat = path.stat()  # a coarse mtime would hide the change: make it visible, no sleep
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    clock.advance(1)
    assert codes(guard.check(request, ctx)) == {
        "POSITION_ABOVE_MAX",
        "NOTIONAL_ABOVE_MAX",
        "OPEN_ORDERS_ABOVE_MAX",
        "PRICE_OUTSIDE_BAND",
    }


@given(
    request=st.one_of(
        st.builds(NewOrder, account_id=odd_text, symbol=odd_text, side=st.just(Side.BUY),
                  qty=st.just(1), order_type=st.just(OrderType.MKT)),
        st.builds(CancelOrder, account_id=odd_text, symbol=odd_text, orig_cl_order_id=odd_text),
        st.builds(GoFlat, account_id=odd_text),
    )
)  # fmt: skip
def test_required_fields_names_each_missing_field_of_a_new_order_cancel_or_go_flat(
    request: OrderRequest,
) -> None:
    # Its early return for these types reads the same table as its denial: one source.
    wanted = {
        NewOrder: ("account_id", "symbol"),
        CancelOrder: ("account_id", "symbol", "orig_cl_order_id"),
        GoFlat: ("account_id",),
    }[type(request)]
    [rule] = [v for v in builtin_validators() if v.name == "required_fields"]
    found = list(rule.validate(request, context()))
    assert [(v.code, v.field) for v in found] == [
        ("FIELD_MISSING", f) for f in wanted if not getattr(request, f)
    ]
