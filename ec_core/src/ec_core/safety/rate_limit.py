"""Per-account request rate limits over sliding windows of one second and one minute.

Three kinds are counted apart: new orders, modifies, and cancels (cancel and
cancel-all). Liquidate-all and go-flat are the emergency exit: never limited,
never counted. A request is counted when it is actually sent
(:meth:`RateLimiter.record`), not when it is checked, so denied requests do not
eat the budget. Time comes from the caller, so a fake clock drives the tests.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import final

from ec_core.errors import Violation
from ec_core.safety.codes import Code
from ec_core.safety.limits import AccountRules

__all__ = ["RateKind", "RateLimiter"]

_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND


class RateKind(StrEnum):
    ORDERS = "orders"
    MODIFIES = "modifies"
    CANCELS = "cancels"


@final
class _Windows:
    """Send times of one account and kind: the last second and the last minute."""

    __slots__ = ("minute", "second")

    def __init__(self) -> None:
        self.second: deque[int] = deque()
        self.minute: deque[int] = deque()

    def prune(self, now_ns: int) -> None:
        second, minute = self.second, self.minute
        edge = now_ns - _SECOND
        while second and second[0] <= edge:
            second.popleft()
        edge = now_ns - _MINUTE
        while minute and minute[0] <= edge:
            minute.popleft()


@final
class RateLimiter:
    """Sliding-window counters per account and :class:`RateKind`."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, RateKind], _Windows] = {}

    def check(self, account: AccountRules, kind: RateKind, now_ns: int) -> Violation | None:
        """A violation if one more ``kind`` request now would exceed ``account``'s limits."""
        if kind is RateKind.ORDERS:
            per_second, per_minute = account.orders_per_second, account.orders_per_minute
        elif kind is RateKind.MODIFIES:
            per_second, per_minute = account.modifies_per_second, account.modifies_per_minute
        else:
            per_second, per_minute = account.cancels_per_second, account.cancels_per_minute
        if per_second is None and per_minute is None:
            return None
        windows = self._windows.get((account.account_id, kind))
        if windows is None:
            return None
        windows.prune(now_ns)
        if per_second is not None and len(windows.second) >= per_second:
            return Violation(
                code=Code.RATE_LIMIT,
                field=kind.value,
                rule=f"more than {per_second} {kind.value}/s in account {account.account_id}",
                value=len(windows.second) + 1,
                limit=per_second,
            )
        if per_minute is not None and len(windows.minute) >= per_minute:
            return Violation(
                code=Code.RATE_LIMIT,
                field=kind.value,
                rule=f"more than {per_minute} {kind.value}/min in account {account.account_id}",
                value=len(windows.minute) + 1,
                limit=per_minute,
            )
        return None

    def record(self, account_id: str, kind: RateKind, now_ns: int) -> None:
        """Count one ``kind`` request sent at ``now_ns``."""
        key = (account_id, kind)
        windows = self._windows.get(key)
        if windows is None:
            windows = self._windows[key] = _Windows()
        windows.prune(now_ns)
        windows.second.append(now_ns)
        windows.minute.append(now_ns)

    def count(self, account_id: str, kind: RateKind, now_ns: int) -> tuple[int, int]:
        """Requests of ``kind`` in the last second and the last minute."""
        windows = self._windows.get((account_id, kind))
        if windows is None:
            return (0, 0)
        windows.prune(now_ns)
        return (len(windows.second), len(windows.minute))
