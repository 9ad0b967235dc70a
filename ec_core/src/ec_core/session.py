"""The lifecycle state machine every vendor session follows.

::

    CREATED -> CONNECTING -> LOGGED_ON <-> RECONNECTING
                   |             |              |
                   +-------------+--> CLOSING --+--> CLOSED

Vendors own a :class:`SessionLifecycle` and call :meth:`SessionLifecycle.advance`;
illegal moves raise, so a bug shows up at once instead of as a hung strategy.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import final

import anyio

from ec_core.errors import SessionError
from ec_core.model import SessionState

__all__ = ["SESSION_TRANSITIONS", "SessionLifecycle"]

_S = SessionState
SESSION_TRANSITIONS = MappingProxyType(
    {
        _S.CREATED: frozenset({_S.CONNECTING, _S.CLOSED}),
        _S.CONNECTING: frozenset({_S.LOGGED_ON, _S.CLOSING, _S.CLOSED}),
        _S.LOGGED_ON: frozenset({_S.RECONNECTING, _S.CLOSING, _S.CLOSED}),
        _S.RECONNECTING: frozenset({_S.LOGGED_ON, _S.CLOSING, _S.CLOSED}),
        _S.CLOSING: frozenset({_S.CLOSED}),
        _S.CLOSED: frozenset(),
    }
)

StateListener = Callable[[SessionState, SessionState], None]


@final
class SessionLifecycle:
    """Current state plus a way to await a state. Not thread-safe: use from one event loop."""

    def __init__(self, *, listener: StateListener | None = None) -> None:
        self._state = SessionState.CREATED
        self._changed = anyio.Event()
        self._listener = listener

    @property
    def state(self) -> SessionState:
        return self._state

    def advance(self, target: SessionState) -> None:
        """Move to ``target``; raise :class:`SessionError` if the table forbids it."""
        source = self._state
        if target is source:
            return
        if target not in SESSION_TRANSITIONS[source]:
            raise SessionError(f"illegal session transition {source.value} -> {target.value}")
        self._state = target
        changed, self._changed = self._changed, anyio.Event()
        changed.set()
        if self._listener is not None:
            self._listener(source, target)

    async def wait_for(self, *targets: SessionState) -> SessionState:
        """Wait until the state is one of ``targets`` (or CLOSED). Cancel-safe."""
        while self._state not in targets and self._state is not SessionState.CLOSED:
            await self._changed.wait()
        return self._state
