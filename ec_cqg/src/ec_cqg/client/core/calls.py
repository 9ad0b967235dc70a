"""Requests the protocol core waits on, as plain objects (no events, no tasks).

A :class:`Call` is one client message whose answers someone wants: the session shell
(which wakes its waiting coroutine when the core lists the call in
:meth:`~ec_cqg.client.core.protocol.CqgClientProtocol.calls_done`) or the core itself
(e.g. the metadata of a contract it must learn). A call is done once every request of
its message got its final answer, or failed (line lost, expired, cancelled). ``interpret``
turns the answers into the call's ``result`` when it completes; what it raises becomes
the call's ``error``, so a refused logon reaches the caller as the typed error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, final

from ec_cqg.protocol.codec import encode_client
from ec_cqg.protocol.correlation import Answer, Correlator, PendingRequest, RequestKind
from ec_cqg.protocol.pb import ClientMsg

__all__ = ["Call", "CallKey", "CallTable"]

T = TypeVar("T")
CallKey = tuple[RequestKind, int | str]


@final
class Call(Generic[T]):
    """One awaited client message: its answers so far, then its result or error."""

    __slots__ = (
        "answers",
        "done",
        "error",
        "interpret",
        "on_error",
        "pending",
        "remaining",
        "result",
    )

    def __init__(
        self,
        pending: list[PendingRequest],
        interpret: Callable[[list[Answer]], T],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.pending = pending
        self.remaining: set[CallKey] = {(p.kind, p.key) for p in pending}
        self.answers: list[Answer] = []
        self.interpret = interpret
        self.on_error = on_error
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    def value(self) -> T:
        """The result of a completed call; raises its error if it failed."""
        if self.error is not None:
            raise self.error
        if not self.done:
            raise RuntimeError("call not done")
        return self.result  # type: ignore[return-value]


@final
class CallTable:
    """The calls in flight over the correlator: their answers, completion and failure."""

    __slots__ = ("_by_key", "_correlator", "_done")

    def __init__(self, correlator: Correlator) -> None:
        self._correlator = correlator
        self._by_key: dict[CallKey, Call[Any]] = {}
        self._done: list[Call[Any]] = []

    def start(
        self,
        msg: ClientMsg,
        interpret: Callable[[list[Answer]], T],
        *,
        deadline_ns: int,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> tuple[Call[T], bytes]:
        """Track ``msg`` as one call; return the call and the frame to write."""
        pending = self._correlator.track(msg, deadline_ns=deadline_ns)
        call = Call(pending, interpret, on_error)
        for key in call.remaining:
            self._by_key[key] = call
        return call, encode_client(msg)

    def cancel(self, call: Call[Any]) -> None:
        """Stop waiting: a late answer becomes a dead letter."""
        if call.done:
            return
        call.done = True
        for kind, key in call.remaining:
            self._correlator.cancel(kind, key)
            self._by_key.pop((kind, key), None)

    def done(self) -> list[Call[Any]]:
        """Calls completed or failed since the last look."""
        out = self._done
        if out:
            self._done = []
        return out

    def on_answer(self, answer: Answer) -> bool:
        """Take an answer to a call; False if no call waits for it."""
        pending = answer.request
        key = (pending.kind, pending.key)
        call = self._by_key.get(key)
        if call is None:
            return False
        call.answers.append(answer)
        if answer.final:
            del self._by_key[key]
            call.remaining.discard(key)
            if not call.remaining:
                self._complete(call)
        return True

    def fail(self, pending: PendingRequest, exc: BaseException) -> bool:
        """Fail the call ``pending`` belongs to; False if it belongs to none."""
        call = self._by_key.pop((pending.kind, pending.key), None)
        if call is None:
            return False
        if not call.done:
            call.done = True
            call.error = exc
            for key in call.remaining:
                self._by_key.pop(key, None)
            if call.on_error is not None:
                call.on_error(exc)
            self._done.append(call)
        return True

    def _complete(self, call: Call[Any]) -> None:
        call.done = True
        try:
            call.result = call.interpret(call.answers)
        except Exception as exc:
            call.error = exc
            if call.on_error is not None:
                call.on_error(exc)
        self._done.append(call)
