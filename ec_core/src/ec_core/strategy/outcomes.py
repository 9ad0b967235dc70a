"""How the engine's order actions ended, counted apart: denied is not sent.

A denied order never left the process; a rejected one reached the venue and was
refused; an unknown one left and its fate is not known yet (timeout, disconnect).
Counting them all as "sent" told a user their denied orders had gone out.

Each action is counted once, when it settles: by the error ``execute`` raised, or, for
one cut off before its answer (the run's stop cancels the actions in flight), by where
its payload got to (:meth:`OrderOutcomes.count_cut_off`): sent and unanswered is
*unknown* (the executor marks its order UNKNOWN), not sent is *failed*. A cut-off
action was counted as answered, so a stop summary said "0 unknown" with its order
UNKNOWN. A later change of the order's state (a status query, a reconnect) is not an
action's outcome: ``ec run`` counts the orders' states at stop apart.
"""

from __future__ import annotations

from collections import deque
from typing import final

import msgspec

from ec_core.errors import OrderDeniedError, OrderRejectedError, OrderUnknownError
from ec_core.execution.payload import PayloadStatus
from ec_core.model import OrderRequest

__all__ = ["DENIALS_KEPT", "DeniedAction", "OrderCounts", "OrderOutcomes"]

DENIALS_KEPT = 10_000  # the report lists the last this many denied actions, as signal rows

_P = PayloadStatus
_ANSWERED = frozenset({_P.ACKNOWLEDGED, _P.DONE})  # a cut-off action answered just before


class DeniedAction(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One order action a pre-trade check refused (nothing was sent): what was asked,
    when, by which signal, and the rules it broke, for the report's orders table."""

    ts_ns: int
    signal_id: str
    request: OrderRequest
    codes: tuple[str, ...]  # the rules, in the order the checks found them
    text: str


class OrderCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Order actions (new, modify, cancel) by outcome; ``sent`` = ``actions - denied - failed``."""

    actions: int = 0  # every action the engine started and saw settle
    sent: int = 0  # left this process (answered, rejected or unknown)
    denied: int = 0  # refused here by a pre-trade check: nothing was sent
    rejected: int = 0  # sent, and refused by the venue
    unknown: int = 0  # sent, no answer (timeout, disconnect, cut off by the stop)
    failed: int = 0  # not sent because of another error (e.g. no router)

    def describe(self) -> str:
        """``14 order actions: 11 sent (1 rejected, 0 unknown), 3 denied (not sent)``."""
        text = (
            f"{self.actions} order actions: {self.sent} sent ({self.rejected} rejected,"
            f" {self.unknown} unknown), {self.denied} denied (not sent)"
        )
        return text + (f", {self.failed} failed" if self.failed else "")


@final
class OrderOutcomes:
    """Running counts; :meth:`snapshot` gives the frozen :class:`OrderCounts`."""

    __slots__ = ("actions", "denials", "denied", "failed", "rejected", "unknown")

    def __init__(self) -> None:
        # the last DENIALS_KEPT denied actions whole (``denied`` counts them all)
        self.denials: deque[DeniedAction] = deque(maxlen=DENIALS_KEPT)
        self.actions = 0
        self.denied = 0
        self.rejected = 0
        self.unknown = 0
        self.failed = 0

    def count(self, error: BaseException | None) -> None:
        """One settled action; ``error`` is what ``execute`` raised, or ``None``."""
        self.actions += 1
        if error is None:
            return
        if isinstance(error, OrderDeniedError):
            self.denied += 1
        elif isinstance(error, OrderRejectedError):
            self.rejected += 1
        elif isinstance(error, OrderUnknownError):
            self.unknown += 1
        else:
            self.failed += 1

    def count_cut_off(self, status: PayloadStatus) -> None:
        """One action cut off before ``execute`` returned (cancelled), counted by its
        payload's ``status``: sent and unanswered is unknown, never sent is failed."""
        self.actions += 1
        if status is _P.SENT or status is _P.UNKNOWN:  # on the wire, no answer came
            self.unknown += 1
        elif status is _P.REJECTED:
            self.rejected += 1
        elif status is _P.DENIED:
            self.denied += 1
        elif status not in _ANSWERED:  # never left: PENDING, VALIDATED, FAILED, EXPIRED
            self.failed += 1

    def note_denied(
        self, ts_ns: int, signal_id: str, request: OrderRequest, error: OrderDeniedError
    ) -> None:
        """Keep a denied action for the report (counted already by :meth:`count`)."""
        kept = DeniedAction(
            ts_ns=ts_ns, signal_id=signal_id, request=request, codes=error.codes, text=str(error)
        )
        self.denials.append(kept)

    @property
    def sent(self) -> int:
        return self.actions - self.denied - self.failed

    def snapshot(self) -> OrderCounts:
        return OrderCounts(
            actions=self.actions,
            sent=self.sent,
            denied=self.denied,
            rejected=self.rejected,
            unknown=self.unknown,
            failed=self.failed,
        )
