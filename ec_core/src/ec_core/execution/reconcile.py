"""What reconciliation found: each difference between our books and the venue's.

A difference has a deterministic id (a hash of what was compared), so running
reconcile twice over the same disagreement names it the same way, and a journal
replay that meets it again recognises it.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

import msgspec

__all__ = ["Difference", "DifferenceKind", "ReconcileReport", "difference_id"]


class DifferenceKind(StrEnum):
    EXTERNAL_ORDER = "EXTERNAL_ORDER"  # open at the venue, unknown here: adopted
    STATE_MISMATCH = "STATE_MISMATCH"  # both know it, they disagree: the venue wins
    CLOSED_AT_VENUE = "CLOSED_AT_VENUE"  # open here, final at the venue: closed here
    MISSING_AT_VENUE = "MISSING_AT_VENUE"  # open here, the venue never heard of it (voided
    # when the absence is positive and it had no fills, see ReconcileReport.voided)
    POSITION_MISMATCH = "POSITION_MISMATCH"  # the venue's position is adopted


def difference_id(account_id: str, kind: DifferenceKind, key: str, ours: str, venue: str) -> str:
    text = "|".join((account_id, kind.value, key, ours, venue))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    """One disagreement; ``key`` is the chain id or the symbol, ``ours``/``venue`` the values."""

    id: str
    kind: DifferenceKind
    account_id: str
    key: str
    ours: str
    venue: str

    @classmethod
    def of(
        cls, account_id: str, kind: DifferenceKind, key: str, ours: object, venue: object
    ) -> Difference:
        ours_text, venue_text = str(ours), str(venue)
        return cls(
            id=difference_id(account_id, kind, key, ours_text, venue_text),
            kind=kind,
            account_id=account_id,
            key=key,
            ours=ours_text,
            venue=venue_text,
        )


class ReconcileReport(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    ts_ns: int
    orders_checked: int
    positions_checked: int
    differences: tuple[Difference, ...] = ()
    still_unknown: tuple[str, ...] = ()
    voided: tuple[str, ...] = ()  # chains closed as VOIDED: the venue does not have them

    @property
    def clean(self) -> bool:
        return not self.differences and not self.still_unknown
