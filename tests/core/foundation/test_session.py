"""Session lifecycle: the table of legal moves, the listener and ``wait_for``."""

from __future__ import annotations

import itertools

import anyio
import pytest
from ec_core.errors import SessionError
from ec_core.model import SessionState
from ec_core.session import SESSION_TRANSITIONS, SessionLifecycle

S = SessionState

EXPECTED: dict[SessionState, set[SessionState]] = {
    S.CREATED: {S.CONNECTING, S.CLOSED},
    S.CONNECTING: {S.LOGGED_ON, S.CLOSING, S.CLOSED},
    S.LOGGED_ON: {S.RECONNECTING, S.CLOSING, S.CLOSED},
    S.RECONNECTING: {S.LOGGED_ON, S.CLOSING, S.CLOSED},
    S.CLOSING: {S.CLOSED},
    S.CLOSED: set(),
}

# Shortest path from CREATED to each state, to put a lifecycle where a test needs it.
PATH: dict[SessionState, list[SessionState]] = {
    S.CREATED: [],
    S.CONNECTING: [S.CONNECTING],
    S.LOGGED_ON: [S.CONNECTING, S.LOGGED_ON],
    S.RECONNECTING: [S.CONNECTING, S.LOGGED_ON, S.RECONNECTING],
    S.CLOSING: [S.CONNECTING, S.CLOSING],
    S.CLOSED: [S.CLOSED],
}
PAIRS = [(a, b) for a, b in itertools.product(SessionState, SessionState) if a is not b]


def at(
    state: SessionState, moves: list[tuple[SessionState, SessionState]] | None = None
) -> SessionLifecycle:
    lifecycle = SessionLifecycle(
        listener=None if moves is None else (lambda old, new: moves.append((old, new)))
    )
    for step in PATH[state]:
        lifecycle.advance(step)
    if moves is not None:
        moves.clear()
    return lifecycle


def test_table_matches_the_contract() -> None:
    assert {s: set(t) for s, t in SESSION_TRANSITIONS.items()} == EXPECTED


def test_a_new_lifecycle_starts_created() -> None:
    assert SessionLifecycle().state is S.CREATED


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=str)
def test_every_move_is_allowed_or_refused_by_the_table(
    source: SessionState, target: SessionState
) -> None:
    moves: list[tuple[SessionState, SessionState]] = []
    lifecycle = at(source, moves)
    if target in EXPECTED[source]:
        lifecycle.advance(target)
        assert lifecycle.state is target
        assert moves == [(source, target)]
    else:
        with pytest.raises(SessionError, match=f"{source.value} -> {target.value}"):
            lifecycle.advance(target)
        assert lifecycle.state is source
        assert moves == []


@pytest.mark.parametrize("state", list(SessionState))
def test_advancing_to_the_current_state_is_a_silent_no_op(state: SessionState) -> None:
    moves: list[tuple[SessionState, SessionState]] = []
    lifecycle = at(state, moves)
    lifecycle.advance(state)
    assert lifecycle.state is state
    assert moves == []


def test_every_state_can_reach_closed_and_closed_is_final() -> None:
    for state in SessionState:
        assert state is S.CLOSED or S.CLOSED in SESSION_TRANSITIONS[state]
    assert not SESSION_TRANSITIONS[S.CLOSED]


@pytest.mark.anyio
async def test_wait_for_returns_at_once_when_already_there() -> None:
    lifecycle = at(S.LOGGED_ON)
    with anyio.fail_after(1):
        assert await lifecycle.wait_for(S.LOGGED_ON, S.CLOSED) is S.LOGGED_ON


@pytest.mark.anyio
async def test_wait_for_sleeps_through_other_states_until_a_target() -> None:
    lifecycle = SessionLifecycle()
    seen: list[SessionState] = []

    async def waiter() -> None:
        seen.append(await lifecycle.wait_for(S.RECONNECTING))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            for step in (S.CONNECTING, S.LOGGED_ON):
                await anyio.wait_all_tasks_blocked()
                lifecycle.advance(step)
                await anyio.wait_all_tasks_blocked()
                assert seen == []  # not a target: still waiting
            lifecycle.advance(S.RECONNECTING)
    assert seen == [S.RECONNECTING]


@pytest.mark.anyio
async def test_wait_for_wakes_every_waiter_on_close_even_if_not_a_target() -> None:
    """A closed session never reaches LOGGED_ON again: waiters must not hang."""
    lifecycle = at(S.CONNECTING)
    seen: list[SessionState] = []

    async def waiter() -> None:
        seen.append(await lifecycle.wait_for(S.LOGGED_ON))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            lifecycle.advance(S.CLOSED)
    assert seen == [S.CLOSED] * 3


@pytest.mark.anyio
async def test_wait_for_is_cancel_safe() -> None:
    lifecycle = at(S.CONNECTING)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await lifecycle.wait_for(S.LOGGED_ON)
    assert scope.cancelled_caught
    lifecycle.advance(S.LOGGED_ON)  # the lifecycle still works after a cancelled wait
    with anyio.fail_after(1):
        assert await lifecycle.wait_for(S.LOGGED_ON) is S.LOGGED_ON


def test_listener_sees_each_move_in_order() -> None:
    moves: list[tuple[SessionState, SessionState]] = []
    lifecycle = SessionLifecycle(listener=lambda old, new: moves.append((old, new)))
    for step in (S.CONNECTING, S.LOGGED_ON, S.RECONNECTING, S.LOGGED_ON, S.CLOSING, S.CLOSED):
        lifecycle.advance(step)
    assert moves == [
        (S.CREATED, S.CONNECTING),
        (S.CONNECTING, S.LOGGED_ON),
        (S.LOGGED_ON, S.RECONNECTING),
        (S.RECONNECTING, S.LOGGED_ON),
        (S.LOGGED_ON, S.CLOSING),
        (S.CLOSING, S.CLOSED),
    ]
