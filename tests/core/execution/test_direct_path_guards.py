"""Review regressions: the direct path (``send_direct``) passes the shape guards too.

Before the fix, ``send_direct`` skipped every validator, so a NaN price, a quantity
above 2**64 or a ``bool`` quantity reached the journal and the venue; with a journal
a quantity msgpack cannot encode raised a bare ``OverflowError`` from the write-ahead
and left the order's exposure reserved, so every later check counted an order that
was never sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import OrderDeniedError, Violation
from ec_core.execution import Payload, PayloadStatus, PreTradeGate, ValidatorGate
from ec_core.journal import IntentRecorded, Journal
from ec_core.model import ModifyOrder, NewOrder, OrderRequest, OrderType, Side, SmpInstruction
from ec_core.safety.rules import builtin_validators
from ec_core.safety.shape import SHAPE_RULES
from ec_core.tracking import OrderTracker
from ec_core.validation import PreTradeContext, Validator, ValidatorRegistry
from exec_rig import ACCOUNT, SYMBOL, builtin_checks, limit, rig

P = PayloadStatus

LIMITS = """
[defaults]
max_order_qty = 20
max_position = 1000

[instruments.CLE]

[accounts."*"]
orders_per_second = 100000
orders_per_minute = 1000000
"""


def real_checks(clock: ManualClock) -> PreTradeGate:
    return builtin_checks(clock, LIMITS)


def order(**fields: Any) -> NewOrder:
    """A sendable limit order with some fields replaced (construction does not validate)."""
    base: dict[str, Any] = {
        "account_id": ACCOUNT,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "qty": 1,
        "order_type": OrderType.LMT,
        "limit_price": Decimal("70.00"),
    }
    base.update(fields)
    return NewOrder(**base)


MALFORMED: list[tuple[str, NewOrder, str]] = [
    ("nan price", order(limit_price=Decimal("NaN")), "PRICE_INVALID"),
    ("infinite price", order(limit_price=Decimal("Infinity")), "PRICE_INVALID"),
    ("float price", order(limit_price=70.0), "PRICE_INVALID"),
    ("qty over 2**64", order(qty=2**64 + 1), "QTY_ABOVE_MAX"),
    ("qty at 2**63", order(qty=2**63), "QTY_ABOVE_MAX"),
    ("bool qty", order(qty=True), "QTY_NOT_INTEGRAL"),
    ("float qty", order(qty=1.5), "QTY_NOT_INTEGRAL"),
    ("zero qty", order(qty=0), "QTY_NOT_POSITIVE"),
    ("side as text", order(side="BUY"), "ENUM_INVALID"),
    ("order type as text", order(order_type="LMT"), "ENUM_INVALID"),
    ("limit without price", order(limit_price=None), "PRICE_MISSING"),
    ("market with a price", order(order_type=OrderType.MKT), "PRICE_NOT_ALLOWED"),
    ("stop price on a limit", order(stop_price=Decimal("71.00")), "PRICE_NOT_ALLOWED"),
    ("gtd date not a date", order(good_thru_date="tomorrow"), "FIELD_INVALID"),
    ("display above qty", order(display_qty=2), "DISPLAY_QTY_INVALID"),
    ("min qty on a DAY order", order(min_qty=1), "MIN_QTY_NOT_ALLOWED"),
    (
        "smp instruction without id",
        order(smp_instruction=SmpInstruction.CANCEL_RESTING),
        "SMP_INVALID",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("journaled", "real"), [(False, True), (True, True), (True, False)])
@pytest.mark.parametrize(("name", "request_", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_send_direct_denies_a_malformed_request_and_sends_nothing(
    tmp_path: Path, journaled: bool, real: bool, name: str, request_: NewOrder, code: str
) -> None:
    path = tmp_path / "j.sqlite" if journaled else None
    factory = real_checks if real else None  # None: the rig's own small ValidatorGate
    async with rig(journal_path=path, checks_factory=factory) as r:
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.send_direct(request_)
        assert code in caught.value.codes, caught.value
        assert r.received() == []
        assert r.tracker.orders() == []
        assert r.executor.stats().reserved == 0
        # nothing phantom in the way: a sound order still goes out, and is the only one
        sound = await r.executor.send_direct(limit(cl_order_id="sound-1"))
        assert sound is not None
        assert r.received() == ["sound-1"]
        if r.journal is not None:
            r.executor.flush()
            intents = [rec for _, rec in r.journal.records() if isinstance(rec, IntentRecorded)]
            assert [i.request.cl_order_id for i in intents] == ["sound-1"]


@pytest.mark.anyio
async def test_a_modify_with_a_nan_price_is_denied_on_the_direct_path() -> None:
    async with rig(checks_factory=real_checks) as r:
        placed = await r.executor.send_direct(limit())
        assert placed is not None
        bad = ModifyOrder(
            account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=placed.cl_order_id,
            limit_price=Decimal("NaN"),
        )  # fmt: skip
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.send_direct(bad)
        assert caught.value.codes == ("PRICE_INVALID",)
        assert r.received() == [placed.cl_order_id]


@pytest.mark.anyio
async def test_the_optional_rules_stay_optional_on_the_direct_path() -> None:
    """Shape is mandatory; the limits file's max_order_qty (20) is not."""
    async with rig(checks_factory=real_checks) as r:
        assert await r.executor.send_direct(limit(qty=21)) is not None
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=limit(qty=21)))
        assert caught.value.codes == ("QTY_ABOVE_MAX",)
        with pytest.raises(OrderDeniedError) as caught:  # the instrument's own max (2000)
            await r.executor.send_direct(limit(qty=2001))
        assert caught.value.codes == ("QTY_ABOVE_MAX",)


@pytest.mark.anyio
async def test_the_full_path_reports_a_shape_violation_once() -> None:
    async with rig(checks_factory=real_checks) as r:
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=order(qty=0, limit_price=Decimal("NaN"))))
        assert sorted(caught.value.codes) == ["PRICE_INVALID", "QTY_NOT_POSITIVE"]


@pytest.mark.anyio
@pytest.mark.parametrize("direct", [False, True])
async def test_an_intent_the_journal_cannot_encode_is_denied_and_released(
    tmp_path: Path, direct: bool
) -> None:
    """A request id msgpack cannot encode passes every check: the write-ahead fails on
    it. The order must be denied with its exposure released, the journal left healthy."""
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path, checks_factory=real_checks) as r:
        request = limit(cl_order_id="huge-id")
        payload = Payload(request=request, request_id=2**64)
        sending = (
            r.executor.send_direct(request, request_id=2**64)
            if direct
            else r.executor.execute(payload)
        )
        with pytest.raises(OrderDeniedError) as caught:
            await sending
        assert caught.value.codes == ("RECORD_NOT_ENCODABLE",)
        if not direct:
            assert payload.status is P.DENIED
        assert r.received() == []
        assert r.executor.stats().reserved == 0
        assert r.executor.halted is None  # the journal is fine: only that record was bad
        assert r.tracker.open_orders() == []
        sound = await r.executor.execute(Payload(request=limit(cl_order_id="sound-1")))
        assert sound is not None
        assert r.received() == ["sound-1"]
    replayed = OrderTracker(clock=ManualClock())
    with Journal(path) as journal:
        report = journal.replay(replayed)
    assert report.marked_unknown == ()
    assert [o.cl_order_id for o in replayed.orders()] == ["sound-1"]


@pytest.mark.anyio
async def test_one_unencodable_intent_does_not_fail_its_basket(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite", checks_factory=real_checks) as r:
        first = Payload(request=limit(price="69.00"))
        bad = Payload(request=limit(price="68.00"), request_id=-(2**64))
        last = Payload(request=limit(price="67.00"))
        results = await r.executor.execute_many([first, bad, last])
        assert isinstance(results[1], OrderDeniedError)
        assert results[1].codes == ("RECORD_NOT_ENCODABLE",)
        assert bad.status is P.DENIED
        assert [first.status, last.status] == [P.ACKNOWLEDGED, P.ACKNOWLEDGED]
        assert r.received() == [first.request.cl_order_id, last.request.cl_order_id]
        assert r.executor.stats().reserved == 0


class _Delegate:
    """A built-in rule behind another class: the executor cannot tell it covers a shape
    guard, so it runs every guard itself (the way every gate was checked before)."""

    def __init__(self, inner: Validator) -> None:
        self.inner = inner
        self.name = inner.name

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        return self.inner.validate(request, context)


def builtin_gate(*, delegated: bool = False) -> ValidatorGate:
    registry = ValidatorRegistry()
    for validator in builtin_validators():
        registry.add(_Delegate(validator) if delegated else validator)
    return ValidatorGate(registry)


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "request_", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_a_validator_gate_with_the_built_in_rules_denies_as_when_every_guard_ran_twice(
    name: str, request_: NewOrder, code: str
) -> None:
    """The shape rules its registry runs are not run again as guards, and the denial
    is the same, violation for violation and in the same order."""
    denials = []
    for delegated in (False, True):
        async with rig(gate=builtin_gate(delegated=delegated)) as r:
            with pytest.raises(OrderDeniedError) as caught:
                await r.executor.execute(Payload(request=request_))
            assert r.received() == []
            denials.append(caught.value.violations)
    assert code in [v.code for v in denials[0]]
    assert denials[0] == denials[1]


@pytest.mark.anyio
async def test_each_shape_rule_runs_once_per_order_through_a_validator_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: Counter[str] = Counter()
    for rule in SHAPE_RULES:
        kind = type(rule)

        def counted(
            self: Validator,
            request: OrderRequest,
            context: PreTradeContext,
            _validate: Any = kind.validate,
            _name: str = kind.__name__,
        ) -> Iterable[Violation]:
            calls[_name] += 1
            return _validate(self, request, context)  # type: ignore[no-any-return]

        monkeypatch.setattr(kind, "validate", counted)
    async with rig(gate=builtin_gate()) as r:
        assert await r.executor.execute(Payload(request=limit())) is not None
    assert calls == Counter({type(rule).__name__: 1 for rule in SHAPE_RULES})
