"""The executor's send step: one admitted (and journaled) request onto the wire, its answer awaited.

It has its own module because it is the one place that decides what a send's end
means for the order: sent (tracked, journaled ``RequestSent``), never placed
(``SendFailed``: the gateway denied it, the venue rejected it at the door, the
connection was gone) or UNKNOWN (cancelled or failed while writing: it may have
left). :class:`~ec_core.execution.executor.Executor` calls it through
:meth:`Sender.dispatch` and :meth:`Sender.not_sent`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import final

from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError, OrderDeniedError, OrderRejectedError
from ec_core.execution.admission import Admission
from ec_core.execution.answers import Answers
from ec_core.execution.feed import NO_FENCE, SendFence
from ec_core.execution.intake import Intake
from ec_core.execution.journaling import JournalWriter
from ec_core.execution.payload import Payload, PayloadStatus
from ec_core.journal import RequestSent, SendFailed, track_sent
from ec_core.model import CancelAll, GoFlat, LiquidateAll, Order, OrderRequest
from ec_core.plugins.host import PluginHost
from ec_core.tracking import OrderTracker
from ec_core.vendor import OrderGateway

__all__ = ["Sender"]

_P = PayloadStatus
_BULK = (CancelAll, LiquidateAll, GoFlat)


@final
class Sender:
    """Send a request through the gateway and settle the payload by how the send ended.

    ``fence`` is the :class:`~ec_core.execution.feed.SendFence` a direct stream sets
    while it runs (what an in-process venue answers during a send waits for the send
    to be recorded); ``gateway`` is replaceable (the executor's setter).
    """

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        tracker: OrderTracker,
        clock: Clock,
        admission: Admission,
        journal: JournalWriter,
        journaled: bool,
        answers: Answers,
        intake: Intake,
        host: PluginHost | None,
        record_sent: Callable[[OrderRequest], object],
    ) -> None:
        self.gateway = gateway
        self.fence: SendFence = NO_FENCE
        self._tracker = tracker
        self._clock = clock
        self._admission = admission
        self._journal = journal
        self._journaled = journaled
        self._answers = answers
        self._intake = intake
        self._host = host
        self._record_sent = record_sent

    async def dispatch(self, payload: Payload, request: OrderRequest) -> Order | None:
        """Send a validated (and journaled) request and await its answer."""
        targets = self._bulk_targets(request) if isinstance(request, _BULK) else None
        disconnects = self._tracker.disconnects
        try:
            await self._send(payload, request)
            if targets is None:
                outcome = self._tracker.outcome(request.cl_order_id)
                if outcome is not None:  # answered during the send (an in-process venue)
                    return self._answers.settle(payload, request.cl_order_id, outcome)
            return await self._answers.await_answer(
                payload, request, targets, disconnects=disconnects
            )
        except BaseException:
            if payload.status is _P.SENT:  # left, and nobody will await its answer now
                self._answers.interrupted(payload, request.cl_order_id)
            raise

    def not_sent(
        self, payload: Payload, request: OrderRequest, reason: str, *, journaled: bool
    ) -> None:
        """A validated request will not be sent: release its reserved exposure and, if
        its intent was journaled, say so (recovery must not think it may have left)."""
        self._admission.release(request.cl_order_id)
        if journaled:
            self._journal.append(SendFailed(cl_order_id=request.cl_order_id, reason=reason))
        if payload.status is _P.VALIDATED:
            payload.advance(_P.FAILED, reason)

    def _bulk_targets(self, request: CancelAll | LiquidateAll | GoFlat) -> list[str]:
        symbol = getattr(request, "symbol", None)
        return [o.chain_id for o in self._tracker.open_orders(request.account_id, symbol)]

    async def _send(self, payload: Payload, request: OrderRequest) -> None:
        cl_order_id = request.cl_order_id
        fence = self.fence
        fence.hold()  # what an in-process venue answers meanwhile waits for the record
        try:
            await self.gateway.send(request)
        except ConnectionLostError as exc:
            self._not_placed(payload, _P.FAILED, f"not sent: {exc}", str(exc), fence)
            raise
        except OrderDeniedError as exc:
            # The gateway refused it before writing a byte (what the venue's format
            # cannot express, e.g. a cl_order_id over CQG's 64 bytes): a denial like
            # any other, never an order that "may have left".
            codes = ", ".join(exc.codes)
            self._not_placed(payload, _P.DENIED, codes, f"denied by the gateway: {codes}", fence)
            if self._host is not None:
                self._host.notify_denied(payload.request, exc.violations)
            raise
        except OrderRejectedError as exc:
            # The venue refused it at the door (an in-process venue answers the send
            # itself, e.g. an account this logon does not trade): nothing was placed,
            # nothing is tracked, the answer is final.
            answer = f"{exc.code}: {exc.text}"
            self._not_placed(
                payload, _P.REJECTED, answer, f"rejected by the venue: {answer}", fence
            )
            raise
        except BaseException:
            # Cancelled (or failed) while writing: it may have left. UNKNOWN, never void.
            self._sent(payload, request)  # synchronous: safe under cancellation
            self._answers.unknown(payload, cl_order_id, "send interrupted")
            fence.release()
            raise
        self._sent(payload, request)
        fence.release()
        if self._intake.resync_pending:
            await self._intake.resync_due()

    def _not_placed(
        self,
        payload: Payload,
        status: PayloadStatus,
        why: str,
        journaled: str,
        fence: SendFence,
    ) -> None:
        """The send ended before the order could be placed: release it, journal
        ``SendFailed`` (recovery knows it never left), settle the payload."""
        cl_order_id = payload.request.cl_order_id
        self._admission.release(cl_order_id)
        self._journal.append(
            SendFailed(cl_order_id=cl_order_id, reason=journaled, ts_ns=self._clock.now_ns())
        )
        payload.advance(status, why)
        fence.release()

    def _sent(self, payload: Payload, request: OrderRequest) -> None:
        if self._journaled:
            self._journal.append(
                RequestSent(cl_order_id=request.cl_order_id, ts_ns=self._clock.now_ns())
            )
        track_sent(self._tracker, request)
        self._admission.release(request.cl_order_id)
        self._record_sent(request)
        payload.advance(_P.SENT)
