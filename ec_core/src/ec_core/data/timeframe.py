"""How bars are cut: by time, by number of ticks or by traded volume.

A timeframe is named the way users write it: ``"1s"``, ``"1m"``, ``"5m"``, ``"1h"``
(time), ``"100t"`` (every 100 ticks), ``"500v"`` (every 500 contracts traded).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import final

import msgspec

from ec_core.errors import ConfigError

__all__ = ["BarKind", "Timeframe"]

_SECOND = 1_000_000_000
_UNIT_NS = {"s": _SECOND, "m": 60 * _SECOND, "h": 3_600 * _SECOND, "d": 86_400 * _SECOND}
_PATTERN = re.compile(r"^([1-9][0-9]*)(s|m|h|d|t|v)$")


class BarKind(StrEnum):
    TIME = "TIME"
    TICKS = "TICKS"
    VOLUME = "VOLUME"


@final
class Timeframe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``size`` is nanoseconds for time bars, ticks for tick bars, contracts for volume bars."""

    name: str
    kind: BarKind
    size: int

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """``"1m"`` -> a one-minute time frame. Raises :class:`ConfigError` on bad text."""
        if isinstance(text, Timeframe):
            return text
        match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(
                f"bad timeframe {text!r}: expected a positive count and a unit"
                " (s, m, h, d for time; t for ticks; v for volume), e.g. '1m', '100t', '500v'",
                path="timeframe",
            )
        count, unit = int(match.group(1)), match.group(2)
        if unit == "t":
            return cls(name=f"{count}t", kind=BarKind.TICKS, size=count)
        if unit == "v":
            return cls(name=f"{count}v", kind=BarKind.VOLUME, size=count)
        return cls(name=f"{count}{unit}", kind=BarKind.TIME, size=count * _UNIT_NS[unit])
