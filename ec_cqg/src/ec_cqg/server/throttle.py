"""Failed-logon throttling: per user and per address, with exponential backoff.

The first ``free_failures`` failures of a key (a user name, or a peer address) cost
nothing; each one after that blocks the key for ``backoff_ns`` doubled per extra
failure, capped at ``max_ns``. While a key is blocked, logons on it are refused without
looking at the password (so guessing gains nothing), and those refusals do not extend the
block (so a guesser cannot lock a user out for longer than ``max_ns`` past their last
real failure). A success clears the user's and the address's record. At most
``max_keys`` keys are remembered (oldest dropped), so random user names cannot grow it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import final

__all__ = ["LogonThrottle"]


@dataclass(slots=True)
class _Record:
    failures: int = 0
    blocked_until_ns: int = 0


@final
class LogonThrottle:
    """Who may try to log on now (see the module docstring)."""

    def __init__(
        self, *, free_failures: int, backoff_ns: int, max_ns: int, max_keys: int = 10_000
    ) -> None:
        self._free = free_failures
        self._backoff = backoff_ns
        self._max = max_ns
        self._max_keys = max_keys
        self._records: OrderedDict[str, _Record] = OrderedDict()

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, ...]:
        return (f"user:{user}", f"address:{address}") if address else (f"user:{user}",)

    def retry_at(self, user: str, address: str, now_ns: int) -> int | None:
        """When the next attempt of ``user`` from ``address`` may be evaluated (``None``: now)."""
        until = max(
            (r.blocked_until_ns for k in self._keys(user, address) if (r := self._records.get(k))),
            default=0,
        )
        return until if until > now_ns else None

    def failed(self, user: str, address: str, now_ns: int) -> None:
        for key in self._keys(user, address):
            record = self._records.pop(key, None) or _Record()
            self._records[key] = record  # most recent last
            record.failures += 1
            extra = record.failures - self._free
            if extra > 0:
                delay = min(self._backoff << min(extra - 1, 62), self._max)
                record.blocked_until_ns = now_ns + delay
        while len(self._records) > self._max_keys:
            self._records.popitem(last=False)

    def succeeded(self, user: str, address: str) -> None:
        for key in self._keys(user, address):
            self._records.pop(key, None)
