"""Self-match prevention (SMP): orders of one owner never trade with each other.

CME Globex SMP: orders carrying the same SMP ID (assigned per executing firm) that
would match are not matched; the SMP instruction *of the aggressing order* says
which one is cancelled, the resting order ("cancel oldest", the default) or the
aggressing one ("cancel newest"). The mock takes the SMP ID and instruction per
order (:attr:`~ec_core.model.NewOrder.smp_id`, ``smp_instruction``) or per account
(:meth:`Exchange.open_account`, for every order of the accounts that share one and
carry none of their own); a cancelled order's report says why. Without an SMP ID,
orders of one account trade with each other as before (core's client-side
self-trade rule covers venues without SMP).
"""

from __future__ import annotations

from typing import Final, final

import msgspec

__all__ = ["SMP_CANCELLED_AGGRESSING", "SMP_CANCELLED_RESTING", "SelfMatchPrevention"]

SMP_CANCELLED_RESTING: Final = "self-match prevention: resting order cancelled"
SMP_CANCELLED_AGGRESSING: Final = "self-match prevention: aggressing order cancelled"


@final
class SelfMatchPrevention(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An account's SMP ID and which side of a would-be self-match is cancelled."""

    smp_id: str
    cancel_resting: bool = True  # False: cancel the aggressing (newest) order instead
