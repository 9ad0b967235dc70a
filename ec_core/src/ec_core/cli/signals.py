"""Ctrl-C and SIGTERM stop a long-running command cleanly: its task group is cancelled and
the command says why (``ec run``, ``ec run --gateway``, ``ec gateway``).

A command whose work is a loop that never awaits (``ec replay``, ``ec data``) is stopped
by Ctrl-C where it is instead (:func:`interrupt_at_once`): asyncio's own handler only
cancels the main task, which such a loop does not see until it ends (or never, in a
strategy stuck in its own code)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import final

import anyio

__all__ = ["StopOnSignal", "interrupt_at_once"]


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


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def interrupt_at_once() -> Iterator[None]:
    """Within the block, Ctrl-C raises ``KeyboardInterrupt`` where the code is (Python's
    own behaviour): ``asyncio.Runner`` installs its cancel-the-main-task handler only over
    Python's default one, so it leaves this one in place. A process started with SIGINT
    ignored keeps ignoring it."""
    if (
        threading.current_thread() is not threading.main_thread()  # signals reach it only
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # started ignoring it (nohup, &)
    ):
        yield
        return
    before = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
