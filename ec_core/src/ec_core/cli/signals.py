"""Ctrl-C and SIGTERM stop a long-running command cleanly: its task group is cancelled and
the command says why (``ec run``, ``ec run --gateway``, ``ec gateway``)."""

from __future__ import annotations

import signal
from typing import final

import anyio

__all__ = ["StopOnSignal"]


@final
class StopOnSignal:
    """``tg.start_soon(stop.watch, tg.cancel_scope)``; ``stop.reason`` says what stopped it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason  # until a signal comes: what ends the command otherwise

    async def watch(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self.reason = f"stopped by {signal.Signals(signum).name}"
                scope.cancel()
                return
