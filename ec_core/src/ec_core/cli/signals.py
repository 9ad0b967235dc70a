"""Ctrl-C and SIGTERM stop a long-running command cleanly: its task group is cancelled and
the command says why (``ec run``, ``ec run --gateway``, ``ec gateway``).

A command whose work is a loop that never awaits (``ec replay``, ``ec data``) is stopped
by Ctrl-C where it is instead (:func:`interrupt_at_once`): asyncio's own handler only
cancels the main task, which such a loop does not see until it ends (or never, in a
strategy stuck in its own code).

A long-running command's stop needs its event loop; code that never returns to it (a
strategy stuck in a loop) would leave Ctrl-C and SIGTERM unanswered. So the first signal
says the stop began, and a second one that the loop has not taken either stops the
command where it is (:class:`StopOnSignal`), naming the line it was stuck at."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import final

import anyio
from anyio.abc import TaskStatus

__all__ = ["StopOnSignal", "interrupt_at_once"]


@final
class StopOnSignal:
    """``await tg.start(stop.watch, tg.cancel_scope)``; ``stop.reason`` says what stopped it.

    ``command`` names the command in what it says (``ec run``); ``left`` is what a stop
    at once leaves undone (``working orders are not cancelled``)."""

    __slots__ = ("_left", "_taken", "command", "reason")

    def __init__(self, reason: str, *, command: str = "ec", left: str = "") -> None:
        self.reason = reason  # until a signal comes: what ends the command otherwise
        self.command = command
        self._left = left
        self._taken = False  # the loop took a signal: the stop is under way

    async def watch(
        self, scope: anyio.CancelScope, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Use ``await tg.start(stop.watch, tg.cancel_scope)``: the handlers are in place
        when it returns, before code that may never yield (``start_soon`` may run it later)."""
        with (
            anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals,
            self._escape_when_stuck(),
        ):
            task_status.started()
            async for signum in signals:
                self._taken = True
                self.reason = f"stopped by {signal.Signals(signum).name}"
                scope.cancel()
                return

    @contextmanager
    def _escape_when_stuck(self) -> Iterator[None]:
        """Beside the loop's own handling (its wakeup fd still fires): Python runs this
        handler between two bytecodes even while the loop is stuck in someone's code."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        pressed = 0

        def handler(signum: int, frame: FrameType | None) -> None:
            nonlocal pressed
            if self._taken:
                return
            pressed += 1
            name = signal.Signals(signum).name
            if pressed == 1:
                _say(f"{self.command}: {name}: stopping (again: stop at once, where it is)")
                return
            while frame is not None and frame.f_code.co_filename == __file__:
                frame = frame.f_back  # came while this handler still ran for the first one
            where = f" at {frame.f_code.co_filename}:{frame.f_lineno}" if frame else ""
            left = f"; {self._left}" if self._left else ""
            _say(
                f"{self.command}: the code{where} did not return, so the stop could not"
                f" begin: stopped there{left}"
            )
            raise KeyboardInterrupt

        for signum in before:
            signal.signal(signum, handler)
        try:
            yield
        finally:
            for signum, previous in before.items():
                signal.signal(signum, previous)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
