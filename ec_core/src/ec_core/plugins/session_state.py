"""How the host hands every session its state listener, whatever the vendor does.

``host.open_session`` builds a listener that calls every ``ec_on_session_state``
observer, and core's default ``ec_open_session`` passes it to the factory:
``factory.open(settings, on_state=listener)``. A vendor gives it to its
:class:`~ec_core.session.SessionLifecycle` (``SessionLifecycle(listener=on_state)``)
and writes nothing else about observers.

A factory written before the parameter existed (``open(settings)`` alone) keeps
working: it is opened as before, with a :class:`DeprecationWarning`, and core reports
the states it can see from outside (CONNECTING and LOGGED_ON around entering, CLOSING
and CLOSED around leaving; CLOSED when entering fails). Only the vendor can see a
reconnect, so such a session reports none.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, final

from ec_core.model import SessionState
from ec_core.session import SessionLifecycle, StateListener
from ec_core.vendor import Session, VendorFactory

__all__ = ["EdgeStates", "open_with_listener", "takes_on_state"]


def takes_on_state(open_method: Callable[..., object]) -> bool:
    """True if ``open_method`` accepts ``on_state=`` (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(open_method).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume the old form
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "on_state" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def open_with_listener(
    factory: VendorFactory, settings: Mapping[str, Any], on_state: StateListener | None
) -> AbstractAsyncContextManager[Session]:
    """``factory.open(settings, on_state=on_state)``; an old factory is opened without it
    (a DeprecationWarning) and its session's edges are reported by :class:`EdgeStates`."""
    if on_state is None:
        return factory.open(settings)
    if takes_on_state(factory.open):
        return factory.open(settings, on_state=on_state)
    name = getattr(factory.info, "name", "?")
    warnings.warn(
        f"vendor {name!r}: {type(factory).__qualname__}.open(settings) takes no on_state;"
        " accept `on_state` and give it to the session's SessionLifecycle(listener=on_state)"
        " so ec_on_session_state observers hear every change (reconnects included)."
        " Until then ec reports only opening and closing",
        DeprecationWarning,
        stacklevel=2,
    )
    return EdgeStates(factory.open(settings), on_state)


@final
class EdgeStates(AbstractAsyncContextManager[Session]):
    """A session context manager whose entering and leaving are reported as states."""

    def __init__(self, inner: AbstractAsyncContextManager[Session], listener: StateListener):
        self._inner = inner
        self._lifecycle = SessionLifecycle(listener=listener)

    async def __aenter__(self) -> Session:
        self._lifecycle.advance(SessionState.CONNECTING)
        try:
            session = await self._inner.__aenter__()
        except BaseException:
            self._lifecycle.advance(SessionState.CLOSED)
            raise
        self._lifecycle.advance(SessionState.LOGGED_ON)
        return session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        self._lifecycle.advance(SessionState.CLOSING)
        try:
            return await self._inner.__aexit__(exc_type, exc, traceback)
        finally:
            self._lifecycle.advance(SessionState.CLOSED)
