"""An intent's one answer: from the executor's outcome, or replayed from the journal.

The gateway runs each intent through the core executor; what it returns or raises
becomes an :class:`~ec_core.gateway.wire.Answer`. An intent whose id the account's
tracker already knows (rebuilt from the journal after a restart) was sent before:
it is answered from that order, never executed again.
"""

from __future__ import annotations

from ec_core.errors import (
    EcError,
    OrderDeniedError,
    OrderRejectedError,
    OrderUnknownError,
    Violation,
)
from ec_core.execution import Payload, PayloadStatus
from ec_core.gateway.wire import Answer, Hello, Lookup, Outcome, Subscribe
from ec_core.model import Order, OrderState

__all__ = [
    "denied",
    "failed",
    "from_error",
    "from_order",
    "from_result",
    "malformed",
    "refused",
    "replayed",
    "request_failed",
]


def denied(intent_id: str, code: str, field: str, rule: str, value: object = None) -> Answer:
    """A gateway-side refusal (a malformed intent): nothing was sent."""
    return refused(intent_id, Violation(code=code, field=field, rule=rule, value=value))


def malformed(kind: str, request_id: str, error: Exception) -> Answer:
    """The answer to a request of ``kind`` the gateway could not decode: an intent is
    ``MALFORMED_INTENT`` (field ``request``), a hello, subscription or lookup
    ``MALFORMED_REQUEST`` (field: its kind); the rule is the decoder's word."""
    if kind == "intent":
        return denied(request_id, "MALFORMED_INTENT", "request", str(error))
    return denied(request_id, "MALFORMED_REQUEST", kind, str(error))


def request_failed(message: Hello | Subscribe | Lookup, error: Exception) -> Answer:
    """Serving a hello, subscription or lookup failed at the gateway: refused
    (``HELLO_FAILED``, ``SUBSCRIBE_FAILED``, ``LOOKUP_FAILED``), the error in the rule."""
    rule = f"failed at the gateway: {type(error).__name__}: {error}"
    if isinstance(message, Hello):
        return denied(message.hello_id, "HELLO_FAILED", "account_id", rule, message.account_id)
    what = "SUBSCRIBE_FAILED" if isinstance(message, Subscribe) else "LOOKUP_FAILED"
    return denied(message.hello_id, what, "symbols", rule, message.symbols)


def refused(request_id: str, violation: Violation) -> Answer:
    """A request the gateway refuses (:mod:`~ec_core.gateway.access`): an intent, or a
    hello or subscription (``request_id`` is then its ``hello_id``). Nothing was sent."""
    return Answer(intent_id=request_id, outcome=Outcome.DENIED, violations=(violation,))


def from_order(intent_id: str, order: Order, *, replayed: bool = False) -> Answer:
    if order.state is OrderState.VOIDED:  # journaled, then found never to have reached it
        return Answer(
            intent_id=intent_id,
            outcome=Outcome.NOT_SENT,
            order=order,
            code="VOIDED",
            text=order.reject_text,
            replayed=replayed,
        )
    if order.state is OrderState.REJECTED:
        return Answer(
            intent_id=intent_id,
            outcome=Outcome.REJECTED,
            order=order,
            code=order.reject_code,
            text=order.reject_text,
            replayed=replayed,
        )
    outcome = Outcome.UNKNOWN if order.state is OrderState.UNKNOWN else Outcome.ACCEPTED
    return Answer(intent_id=intent_id, outcome=outcome, order=order, replayed=replayed)


def replayed(intent_id: str, order: Order) -> Answer:
    """The answer to a redelivered intent, from the order the journal holds."""
    return from_order(intent_id, order, replayed=True)


def from_result(intent_id: str, payload: Payload, order: Order | None) -> Answer:
    """``Executor.execute`` returned: an order, or ``None`` (window closed, bulk ended)."""
    if order is not None:
        return from_order(intent_id, order)
    if payload.status is PayloadStatus.EXPIRED:
        return Answer(
            intent_id=intent_id,
            outcome=Outcome.NOT_SENT,
            code="EXPIRED",
            text=payload.status_reason,
        )
    return Answer(intent_id=intent_id, outcome=Outcome.ACCEPTED)


def from_error(intent_id: str, error: EcError, order: Order | None) -> Answer:
    """``Executor.execute`` raised: denied, rejected, unknown, or not sent."""
    if isinstance(error, OrderDeniedError):
        return Answer(intent_id=intent_id, outcome=Outcome.DENIED, violations=error.violations)
    if isinstance(error, OrderRejectedError):
        code = "" if error.code is None else str(error.code)
        return Answer(
            intent_id=intent_id, outcome=Outcome.REJECTED, order=order, code=code, text=error.text
        )
    if isinstance(error, OrderUnknownError):
        return Answer(intent_id=intent_id, outcome=Outcome.UNKNOWN, order=order, text=str(error))
    return Answer(
        intent_id=intent_id,
        outcome=Outcome.NOT_SENT,
        order=order,
        code=type(error).__name__,
        text=str(error),
    )


def failed(intent_id: str, error: Exception, order: Order | None) -> Answer:
    """Serving the intent failed at the gateway itself: UNKNOWN when its order is known
    (journaled: the gateway reconciles it), else NOT_SENT (sending it again is safe)."""
    text = f"{type(error).__name__}: {error}"
    if order is not None:
        return Answer(intent_id=intent_id, outcome=Outcome.UNKNOWN, order=order, text=text)
    return Answer(intent_id=intent_id, outcome=Outcome.NOT_SENT, code="GATEWAY_FAILURE", text=text)
