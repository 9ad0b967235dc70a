"""Order states and the one table of legal transitions between them.

The table is the contract every vendor mapping and the tracker obey. A state
that is not a key of ``_TRANSITIONS[source]`` cannot follow ``source``;
:func:`check_transition` raises :class:`IllegalTransitionError` for it.
Reporting the same state again (a duplicate or a partial fill that leaves the
state unchanged) is always allowed, so replays are idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ec_core.errors import IllegalTransitionError

__all__ = ["FINAL_STATES", "TRANSITIONS", "OrderState", "can_transition", "check_transition"]


class OrderState(StrEnum):
    PENDING_NEW = "PENDING_NEW"  # sent, no answer yet
    WORKING = "WORKING"  # accepted and resting (or a stop waiting for its trigger)
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_MODIFY = "PENDING_MODIFY"  # a modify was sent, no answer yet
    PENDING_CANCEL = "PENDING_CANCEL"  # a cancel was sent, no answer yet
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"  # the venue said no
    EXPIRED = "EXPIRED"  # DAY at the close, GTD on its date
    UNKNOWN = "UNKNOWN"  # we cannot tell (timeout, disconnect): reconcile, never drop
    # closed here, not by the venue: it positively does not have the order (reconcile) or
    # an operator said so (``ec orders void``); see docs/outcomes.md
    VOIDED = "VOIDED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def is_open(self) -> bool:
        """Could still trade: everything that is not final."""
        return self not in FINAL_STATES


FINAL_STATES = frozenset(
    {
        OrderState.FILLED,
        OrderState.CANCELLED,
        OrderState.REJECTED,
        OrderState.EXPIRED,
        OrderState.VOIDED,
    }
)

_S = OrderState
# VOIDED: any open order may be closed here when the venue does not have it
_LIVE_OUTCOMES = {
    _S.PARTIALLY_FILLED,
    _S.FILLED,
    _S.CANCELLED,
    _S.EXPIRED,
    _S.UNKNOWN,
    _S.VOIDED,
}

TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = MappingProxyType(
    {
        _S.PENDING_NEW: frozenset({_S.WORKING, _S.REJECTED, *_LIVE_OUTCOMES}),
        _S.WORKING: frozenset({_S.PENDING_MODIFY, _S.PENDING_CANCEL, *_LIVE_OUTCOMES}),
        _S.PARTIALLY_FILLED: frozenset({_S.PENDING_MODIFY, _S.PENDING_CANCEL, *_LIVE_OUTCOMES}),
        # A pending modify or cancel returns to WORKING / PARTIALLY_FILLED when the venue
        # acknowledges the modify or rejects the request.
        _S.PENDING_MODIFY: frozenset({_S.WORKING, _S.PENDING_CANCEL, *_LIVE_OUTCOMES}),
        _S.PENDING_CANCEL: frozenset({_S.WORKING, *_LIVE_OUTCOMES}),
        # An unknown order may turn out to be in any state but a pending one.
        _S.UNKNOWN: frozenset({_S.WORKING, _S.REJECTED, *_LIVE_OUTCOMES}),
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
        _S.VOIDED: frozenset(),
    }
)


def can_transition(source: OrderState, target: OrderState) -> bool:
    """True if ``target`` may follow ``source`` (same state always may)."""
    return source is target or target in TRANSITIONS[source]


def check_transition(source: OrderState, target: OrderState) -> OrderState:
    """Return ``target`` if legal after ``source``, else raise :class:`IllegalTransitionError`."""
    if not can_transition(source, target):
        raise IllegalTransitionError(source, target)
    return target
