"""Where the checks get their limits: fixed, or from a file that is reloaded when it changes.

Hot reload polls the file's identity (mtime, size, inode) at most once per
``poll_interval_ms`` of the injected clock, so the check path costs one integer
comparison between polls and tests decide exactly when a poll happens by moving
a :class:`~ec_core.clock.ManualClock`. A file that fails to load keeps the last
good limits in force, and says so loudly: the failure is logged once per bad
version, kept in :attr:`LimitsFile.error`, counted in
:attr:`LimitsFile.reload_errors`, and the kill switch goes to the last good
file's ``[kill_switch] on_limits_reload_error`` (REDUCING by default), so a typo
never leaves trading running on limits nobody meant (``ec kill-switch status``
shows it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, final, runtime_checkable

from ec_core.clock import Clock
from ec_core.errors import ConfigError
from ec_core.safety.kill_switch import KillSwitch, KillSwitchState
from ec_core.safety.limits import Limits, load_limits

__all__ = ["LimitsFile", "LimitsSource", "StaticLimits"]

log = logging.getLogger(__name__)

_FileId = tuple[int, int, int]


@runtime_checkable
class LimitsSource(Protocol):
    """Gives the limits in force at ``now_ns``. Must be cheap: it is called on every check."""

    def current(self, now_ns: int) -> Limits: ...


@final
class StaticLimits:
    """Limits that never change (tests, embedded configurations)."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits

    def current(self, now_ns: int) -> Limits:
        return self._limits


@final
class LimitsFile:
    """A limits TOML file, reloaded when it changes.

    The first load must succeed (a :class:`ConfigError` is raised: there is no
    last good version to fall back on). Later failures keep the last good
    limits in force and are reported through :attr:`error` and
    :attr:`reload_errors`; a good version clears :attr:`error`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock,
        poll_interval_ms: int = 1000,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        if poll_interval_ms < 0:
            raise ValueError("poll_interval_ms must be >= 0")
        self.path = Path(path)
        self.kill_switch = kill_switch
        self._clock = clock
        self._interval_ns = poll_interval_ms * 1_000_000
        self.error: ConfigError | None = None
        self.reloads = 0
        self.reload_errors = 0
        file_id = self._file_id()
        self._limits = Limits(load_limits(self.path), source=str(self.path))
        self._seen: _FileId | None = file_id
        self._next_poll_ns = clock.now_ns() + self._interval_ns

    def guard(self, kill_switch: KillSwitch) -> None:
        """The switch a failed reload escalates, unless one was given (PreTradeChecks
        hands over its own)."""
        if self.kill_switch is None:
            self.kill_switch = kill_switch

    @property
    def limits(self) -> Limits:
        """The limits in force (without polling)."""
        return self._limits

    def current(self, now_ns: int) -> Limits:
        if now_ns >= self._next_poll_ns:
            self._next_poll_ns = now_ns + self._interval_ns
            self.poll()
        return self._limits

    def poll(self) -> bool:
        """Reload now if the file changed; True if new limits were loaded."""
        file_id = self._file_id()
        if file_id == self._seen:
            return False
        self._seen = file_id
        try:
            limits = Limits(load_limits(self.path), source=str(self.path))
        except ConfigError as exc:
            self.error = exc
            self.reload_errors += 1
            log.error(
                "limits file %s not reloaded, keeping the last good limits: %s", self.path, exc
            )
            level = self._limits.config.kill_switch.on_limits_reload_error
            if self.kill_switch is not None and level is not KillSwitchState.ACTIVE:
                self.kill_switch.escalate(
                    level,
                    f"limits file {self.path.name} not reloaded ({exc}); the last good"
                    " limits stay in force",
                    source="limits-reload",
                )
            return False
        self._limits = limits
        self.error = None
        self.reloads += 1
        log.info("limits reloaded from %s", self.path)
        return True

    def _file_id(self) -> _FileId | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)
