"""How the engine's order actions ended, counted apart: denied is not sent.

A denied order never left the process; a rejected one reached the venue and was
refused; an unknown one left and its fate is not known yet (timeout, disconnect).
Counting them all as "sent" told a user their denied orders had gone out.
"""

from __future__ import annotations

from typing import final

import msgspec

from ec_core.errors import OrderDeniedError, OrderRejectedError, OrderUnknownError

__all__ = ["OrderCounts", "OrderOutcomes"]


class OrderCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Order actions (new, modify, cancel) by outcome; ``sent`` = ``actions - denied - failed``."""

    actions: int = 0  # every action the engine started and saw settle
    sent: int = 0  # left this process (answered, rejected or unknown)
    denied: int = 0  # refused here by a pre-trade check: nothing was sent
    rejected: int = 0  # sent, and refused by the venue
    unknown: int = 0  # sent, fate not known (timeout, disconnect): reconciled later
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

    __slots__ = ("actions", "denied", "failed", "rejected", "unknown")

    def __init__(self) -> None:
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
