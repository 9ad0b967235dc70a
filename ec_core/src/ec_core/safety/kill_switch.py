"""The kill switch: ACTIVE → REDUCING (only position-reducing orders) → HALTED (only cancels
and liquidate/go-flat).

It is switched by API (:meth:`KillSwitch.set`), by the ``ec kill-switch`` command
and by the daily loss limit. To reach a *running* process from the command line
the state lives in a small JSON file next to the limits file
(``limits.toml`` → ``limits.killswitch.json``), written atomically (temp file +
rename). Every process polls the file's identity at most once per
``poll_interval_ms`` of its clock, so the check path costs one integer
comparison between polls. A file that exists but cannot be read fails closed:
the switch goes to HALTED and says why.
"""

from __future__ import annotations

import logging
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import final

import msgspec

from ec_core.clock import Clock, WallClock

__all__ = ["KillSwitch", "KillSwitchRecord", "KillSwitchState", "kill_switch_path"]

log = logging.getLogger(__name__)


class KillSwitchState(StrEnum):
    ACTIVE = "ACTIVE"  # everything the other checks pass
    REDUCING = "REDUCING"  # only orders that reduce a position; cancels, liquidate, go-flat
    HALTED = "HALTED"  # only cancels, liquidate-all and go-flat

    @property
    def level(self) -> int:
        return _LEVELS[self]

    @property
    def meaning(self) -> str:
        """What the state allows, in words (``ACTIVE`` reads as if the switch were thrown)."""
        return _MEANINGS[self]


_LEVELS = {KillSwitchState.ACTIVE: 0, KillSwitchState.REDUCING: 1, KillSwitchState.HALTED: 2}
_MEANINGS = {
    KillSwitchState.ACTIVE: "not tripped: trading allowed",
    KillSwitchState.REDUCING: "REDUCING: only position-reducing orders, cancels and flattening",
    KillSwitchState.HALTED: "HALTED: only cancels, liquidate-all and go-flat",
}


class KillSwitchRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the state file holds; also what :attr:`KillSwitch.record` returns."""

    state: KillSwitchState = KillSwitchState.ACTIVE
    reason: str = ""
    source: str = ""  # "api", "cli", "loss-limit", "file" …
    set_ns: int = 0


_decode = msgspec.json.Decoder(KillSwitchRecord).decode
_encode = msgspec.json.Encoder().encode


def kill_switch_path(limits_path: str | Path) -> Path:
    """The state file of ``limits_path``: ``limits.toml`` → ``limits.killswitch.json``."""
    path = Path(limits_path)
    return path.with_name(f"{path.stem}.killswitch.json")


@final
class KillSwitch:
    """The switch, in memory, optionally persisted to ``path`` and shared through it."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        clock: Clock | None = None,
        poll_interval_ms: int = 100,
    ) -> None:
        if poll_interval_ms < 0:
            raise ValueError("poll_interval_ms must be >= 0")
        self.path = None if path is None else Path(path)
        self._clock: Clock = clock or WallClock()
        self._interval_ns = poll_interval_ms * 1_000_000
        self._record = KillSwitchRecord()
        self._seen: tuple[int, int, int] | None = None
        self._next_poll_ns = 0
        self._read(loading=True)
        self._next_poll_ns = self._clock.now_ns() + self._interval_ns

    @classmethod
    def beside(
        cls, limits_path: str | Path, *, clock: Clock | None = None, poll_interval_ms: int = 100
    ) -> KillSwitch:
        """The switch whose state file sits next to ``limits_path``."""
        return cls(kill_switch_path(limits_path), clock=clock, poll_interval_ms=poll_interval_ms)

    # -- reading -----------------------------------------------------------------

    @property
    def state(self) -> KillSwitchState:
        return self.state_at(self._clock.now_ns())

    @property
    def reason(self) -> str:
        return self._record.reason

    @property
    def record(self) -> KillSwitchRecord:
        return self._record

    def state_at(self, now_ns: int) -> KillSwitchState:
        """The state, polling the file if a poll is due at ``now_ns`` (the hot path)."""
        if now_ns >= self._next_poll_ns:
            self._next_poll_ns = now_ns + self._interval_ns
            self.poll()
        return self._record.state

    def poll(self) -> bool:
        """Read the state file now if it changed; True if the state was updated from it."""
        return self._read(loading=False)

    def _read(self, *, loading: bool) -> bool:
        """``poll``; ``loading``: the state as this process finds it at start (logged at
        INFO), not a switching it saw (a WARNING naming both states)."""
        if self.path is None:
            return False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            return self._fail_closed(f"cannot stat kill-switch file: {exc}")
        file_id = (st.st_mtime_ns, st.st_size, st.st_ino)
        if file_id == self._seen:
            return False
        self._seen = file_id
        try:
            record = _decode(self.path.read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            return self._fail_closed(f"unreadable kill-switch file {self.path}: {exc}")
        if loading:
            log.info("kill switch %s in %s (%s, by %s)", record.state.value, self.path,
                     record.reason, record.source)  # fmt: skip
        elif record.state is not self._record.state:
            log.warning(
                "kill switch %s -> %s (%s, by %s)",
                self._record.state.value,
                record.state.value,
                record.reason,
                record.source,
            )
        self._record = record
        return True

    def _fail_closed(self, reason: str) -> bool:
        log.error("%s: kill switch HALTED", reason)
        self._record = KillSwitchRecord(
            state=KillSwitchState.HALTED, reason=reason, source="file", set_ns=self._clock.now_ns()
        )
        return True

    # -- switching ---------------------------------------------------------------

    def set(self, state: KillSwitchState, reason: str, *, source: str = "api") -> None:
        """Switch to ``state`` (any direction) and persist it for every process sharing the file."""
        record = KillSwitchRecord(
            state=KillSwitchState(state), reason=reason, source=source, set_ns=self._clock.now_ns()
        )
        if record.state is not self._record.state:
            log.warning(
                "kill switch %s -> %s (%s, by %s)",
                self._record.state.value,
                record.state.value,
                reason,
                source,
            )
        self._record = record
        if self.path is not None:
            self._write(record)

    def escalate(self, state: KillSwitchState, reason: str, *, source: str = "api") -> bool:
        """Switch to ``state`` only if it is stricter than the current one; True if it switched."""
        if KillSwitchState(state).level <= self.state.level:
            return False
        self.set(state, reason, source=source)
        return True

    def _write(self, record: KillSwitchRecord) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".killswitch-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_encode(record))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        st = os.stat(self.path)
        self._seen = (st.st_mtime_ns, st.st_size, st.st_ino)
