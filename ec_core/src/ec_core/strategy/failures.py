"""Failures the engine isolates: one report per distinct error, repeats counted.

A strategy whose ``generate()`` raises is called again on the next tick, and raises
again: one log line and one report entry per tick buried the cause. The log here keeps
the first occurrence of each distinct error (where, strategy, type, the user's
``file:line`` and the message or, for a denial, its codes) with a count, logs it once,
and counts consecutive failures of each strategy's own code so the engine can disable
a strategy that keeps failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import final

import msgspec

from ec_core.strategy.usercode import as_typed, user_frame

__all__ = [
    "DEFAULT_MAX_CONSECUTIVE_FAILURES",
    "USER_CODE",
    "ErrorReport",
    "FailureLog",
    "strategy_failed",
]

logger = logging.getLogger("ec_core.strategy.engine")

#: Failures in a row (of ``generate()``, or of its signals' trees) that disable a strategy.
DEFAULT_MAX_CONSECUTIVE_FAILURES = 10

#: Where a failure is the strategy author's code, not an order outcome.
USER_CODE = frozenset({"generate", "signal", "hook"})


class ErrorReport(msgspec.Struct, frozen=True, kw_only=True):
    """A failure the engine isolated. ``where``: generate, signal, order, cancel, hook.

    ``ts_ns`` is the first occurrence, ``count`` how many times it happened, ``at`` the
    ``file:line`` in the user's code ("" when it did not come from there).
    """

    ts_ns: int
    where: str
    strategy: str
    signal_id: str
    error: str
    error_type: str
    at: str = ""
    count: int = 1
    last_ns: int = 0


_Key = tuple[str, str, str, str, str]


@final
class FailureLog:
    """Distinct failures with counts, and each strategy's run of consecutive failures."""

    __slots__ = ("_index", "max_consecutive", "reports", "runs")

    def __init__(self, *, max_consecutive: int = DEFAULT_MAX_CONSECUTIVE_FAILURES) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_consecutive_failures must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.reports: list[ErrorReport] = []  # first occurrences, in order, counts kept up
        self._index: dict[_Key, int] = {}
        # (strategy, kind) -> failures in a row; empty while nothing fails (the engine
        # checks it before calling succeeded(), so the pass path costs no call)
        self.runs: dict[tuple[str, str], int] = {}

    def record(
        self, now: int, where: str, strategy: str, signal_id: str, exc: BaseException
    ) -> ErrorReport | None:
        """Count ``exc``; the new report the first time it is seen, else ``None``."""
        frame = user_frame(exc)
        at = f"{as_typed(frame[0])}:{frame[1]}" if frame is not None else ""
        codes = getattr(exc, "codes", None)
        text = f"{type(exc).__name__}: {exc}"
        key = (where, strategy, type(exc).__name__, at, ",".join(codes) if codes else text)
        seen = self._index.get(key)
        if seen is not None:
            old = self.reports[seen]
            self.reports[seen] = msgspec.structs.replace(old, count=old.count + 1, last_ns=now)
            logger.debug(
                "%s failed again in %s (%d times): %s", strategy, where, old.count + 1, text
            )
            return None
        report = ErrorReport(
            ts_ns=now,
            last_ns=now,
            where=where,
            strategy=strategy,
            signal_id=signal_id,
            error=text,
            error_type=type(exc).__name__,
            at=at,
        )
        self._index[key] = len(self.reports)
        self.reports.append(report)
        place = f" at {at}" if at else ""
        logger.error(
            "%s failed in %s%s (signal %s): %s (logged once; repeats are counted)",
            strategy,
            where,
            place,
            signal_id or "-",
            text,
        )
        return report

    def failed(self, strategy: str, kind: str) -> int:
        """One more failure in a row of ``strategy``'s ``kind`` of code; the run's length."""
        key = (strategy, kind)
        run = self.runs.get(key, 0) + 1
        self.runs[key] = run
        return run

    def succeeded(self, strategy: str, kind: str) -> None:
        """``strategy``'s ``kind`` of code ran without raising: the run starts over."""
        self.runs.pop((strategy, kind), None)


def strategy_failed(errors: Iterable[ErrorReport], disabled: Mapping[str, str]) -> bool:
    """Whether a strategy's own code failed or a strategy was disabled (the CLI exits 3)."""
    return bool(disabled) or any(r.where in USER_CODE for r in errors)
