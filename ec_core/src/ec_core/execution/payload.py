"""``Payload``: one order request on its way out, with its own status lifecycle.

A payload wraps a typed :data:`~ec_core.model.OrderRequest` with a request id,
an activation window and the check policy to apply. Its status only moves along
the table below; the executor is the one that moves it::

    PENDING -> VALIDATED -> SENT -> ACKNOWLEDGED -> DONE
       |           |          |          |
       +-> DENIED  +-> EXPIRED/FAILED    +-> REJECTED (the venue said no)
                              +-> UNKNOWN -> ACKNOWLEDGED | REJECTED | DONE

DENIED means refused here (nothing left the process); REJECTED means the venue
refused it; UNKNOWN means we cannot tell yet and reconciliation will decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

import msgspec

from ec_core.errors import PayloadStateError
from ec_core.model import OrderRequest

__all__ = ["PAYLOAD_TRANSITIONS", "Payload", "PayloadStatus"]


class PayloadStatus(StrEnum):
    PENDING = "PENDING"  # built, not yet checked
    VALIDATED = "VALIDATED"  # passed every pre-trade check
    SENT = "SENT"  # on the wire, no answer yet
    ACKNOWLEDGED = "ACKNOWLEDGED"  # the venue accepted the request
    DONE = "DONE"  # the order it created or changed reached a final state
    DENIED = "DENIED"  # refused by pre-trade checks: nothing was sent
    REJECTED = "REJECTED"  # refused by the venue
    EXPIRED = "EXPIRED"  # its activation window closed before it was sent
    FAILED = "FAILED"  # could not be sent (connection down before the write)
    UNKNOWN = "UNKNOWN"  # sent, fate unknown (timeout, disconnect): being reconciled

    @property
    def is_final(self) -> bool:
        return not PAYLOAD_TRANSITIONS[self]


_P = PayloadStatus
PAYLOAD_TRANSITIONS: Mapping[PayloadStatus, frozenset[PayloadStatus]] = MappingProxyType(
    {
        _P.PENDING: frozenset({_P.VALIDATED, _P.DENIED, _P.EXPIRED}),
        _P.VALIDATED: frozenset({_P.SENT, _P.EXPIRED, _P.FAILED, _P.DENIED, _P.REJECTED}),
        _P.SENT: frozenset({_P.ACKNOWLEDGED, _P.REJECTED, _P.UNKNOWN, _P.DONE}),
        _P.ACKNOWLEDGED: frozenset({_P.DONE}),
        _P.UNKNOWN: frozenset({_P.ACKNOWLEDGED, _P.REJECTED, _P.DONE}),
        _P.DONE: frozenset(),
        _P.DENIED: frozenset(),
        _P.REJECTED: frozenset(),
        _P.EXPIRED: frozenset(),
        _P.FAILED: frozenset(),
    }
)


_ALLOWED = dict(PAYLOAD_TRANSITIONS)  # a plain dict: the lookup is on every order's path


class Payload(msgspec.Struct, kw_only=True):
    """An order request plus what the executor needs to send it safely.

    ``start_time``/``end_time`` (timezone-aware) bound when it may be sent: not
    before the start, and it expires after the end. ``checks`` names extra
    validator policies to apply on top of the mandatory ones (e.g. ``"cqg"``).
    """

    request: OrderRequest
    request_id: int = 0
    start_time: datetime | None = None
    end_time: datetime | None = None
    checks: tuple[str, ...] = ()
    status: PayloadStatus = PayloadStatus.PENDING
    status_reason: str = ""

    def advance(self, target: PayloadStatus, reason: str = "") -> None:
        """Move to ``target``; raise :class:`PayloadStateError` if the lifecycle forbids it."""
        if target is self.status:
            return
        if target not in _ALLOWED[self.status]:
            raise PayloadStateError(
                f"payload {self.request_id}: illegal status change"
                f" {self.status.value} -> {target.value}",
                request_id=self.request_id,
            )
        self.status = target
        self.status_reason = reason
