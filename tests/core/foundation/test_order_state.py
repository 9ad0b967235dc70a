"""The order state machine: the transition table is a contract every vendor and the tracker obey."""

from __future__ import annotations

import itertools

import pytest
from ec_core.errors import EcError, IllegalTransitionError
from ec_core.model import (
    FINAL_STATES,
    TRANSITIONS,
    Order,
    OrderState,
    OrderType,
    Side,
    can_transition,
    check_transition,
)
from hypothesis import given
from hypothesis import strategies as st

S = OrderState

# The contract, written out edge by edge so a change to the table must be made twice.
EXPECTED: dict[OrderState, set[OrderState]] = {
    S.PENDING_NEW: {
        S.WORKING, S.REJECTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN,
        S.VOIDED,
    },
    S.WORKING: {
        S.PENDING_MODIFY, S.PENDING_CANCEL, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED,
        S.EXPIRED, S.UNKNOWN, S.VOIDED,
    },
    S.PARTIALLY_FILLED: {
        S.PENDING_MODIFY, S.PENDING_CANCEL, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED,
        S.EXPIRED, S.UNKNOWN, S.VOIDED,
    },
    S.PENDING_MODIFY: {
        S.WORKING, S.PENDING_CANCEL, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED,
        S.UNKNOWN, S.VOIDED,
    },
    S.PENDING_CANCEL: {
        S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.UNKNOWN, S.VOIDED,
    },
    S.UNKNOWN: {
        S.WORKING, S.REJECTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.VOIDED,
    },
    S.FILLED: set(),
    S.CANCELLED: set(),
    S.REJECTED: set(),
    S.EXPIRED: set(),
    S.VOIDED: set(),  # closed here: the venue does not have it (reconcile or operator)
}  # fmt: skip

ALL_PAIRS = list(itertools.product(OrderState, OrderState))
LEGAL = [(a, b) for a, b in ALL_PAIRS if a is not b and b in EXPECTED[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if a is not b and b not in EXPECTED[a]]


def test_table_covers_every_state_and_matches_the_contract() -> None:
    assert set(TRANSITIONS) == set(OrderState)
    assert {s: set(t) - {s} for s, t in TRANSITIONS.items()} == {
        s: t - {s} for s, t in EXPECTED.items()
    }


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=lambda s: str(s))
def test_legal_transition_is_allowed(source: OrderState, target: OrderState) -> None:
    assert can_transition(source, target)
    assert check_transition(source, target) is target


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=lambda s: str(s))
def test_illegal_transition_is_refused_naming_both_states(
    source: OrderState, target: OrderState
) -> None:
    assert not can_transition(source, target)
    with pytest.raises(IllegalTransitionError) as info:
        check_transition(source, target)
    assert isinstance(info.value, EcError)
    assert (info.value.source, info.value.target) == (source, target)
    assert f"{source} -> {target}" in str(info.value)


@pytest.mark.parametrize("state", list(OrderState))
def test_reporting_the_same_state_again_is_idempotent(state: OrderState) -> None:
    assert can_transition(state, state)
    assert check_transition(state, state) is state


def test_final_states_are_exactly_those_with_no_way_out() -> None:
    assert {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED, S.VOIDED} == FINAL_STATES
    assert {s for s, targets in TRANSITIONS.items() if not targets} == FINAL_STATES
    for state in OrderState:
        assert state.is_final is (state in FINAL_STATES)
        assert state.is_open is not state.is_final


def test_every_open_state_can_reach_a_final_state_and_unknown() -> None:
    """No order can get stuck: a timeout can always make it UNKNOWN, and UNKNOWN resolves."""
    for state in OrderState:
        if state.is_final:
            continue
        assert TRANSITIONS[state] & FINAL_STATES
        assert state is S.UNKNOWN or S.UNKNOWN in TRANSITIONS[state]


def test_only_a_new_or_unknown_order_can_be_rejected() -> None:
    """A refused modify or cancel leaves the order working; it does not reject the order."""
    assert {s for s in OrderState if S.REJECTED in TRANSITIONS[s]} == {S.PENDING_NEW, S.UNKNOWN}


@given(st.lists(st.sampled_from(list(OrderState)), max_size=30))
def test_random_walk_obeys_the_table_and_final_is_absorbing(targets: list[OrderState]) -> None:
    state = S.PENDING_NEW
    for target in targets:
        if can_transition(state, target):
            state = check_transition(state, target)
        else:
            with pytest.raises(IllegalTransitionError):
                check_transition(state, target)
            assert state.is_final or target not in TRANSITIONS[state]
        if state.is_final:
            assert all(not can_transition(state, t) for t in OrderState if t is not state)


def _order(state: OrderState, *, qty: int = 5, filled: int = 2) -> Order:
    return Order(
        chain_id="c1",
        cl_order_id="c1",
        account_id="A1",
        symbol="CLZ5",
        side=Side.BUY,
        order_type=OrderType.LMT,
        qty=qty,
        state=state,
        filled_qty=filled,
    )


@pytest.mark.parametrize("state", list(OrderState))
def test_remaining_qty_is_zero_once_final(state: OrderState) -> None:
    assert _order(state).remaining_qty == (0 if state.is_final else 3)
    assert _order(state, qty=2, filled=3).remaining_qty == 0
