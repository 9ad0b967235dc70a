"""How the replay venue fills orders from recorded data: the ``[vendors.mock.replay]`` table.

::

    [vendors.mock.replay]
    venue = "recorded"        # or "book": the full-book simulator fed house orders
    market = "touch"          # or "walk": market orders take the recorded size per tick
    queue = true              # a print at a resting limit fills it only past the queue
    fill_at_touch = true      # false: only a print *through* a resting limit fills it
    stop_trigger = "trade"    # or "quote": what fires a resting stop
    slippage_ticks = 0        # market and stop-market fills, this many ticks worse
    latency_ms = 0.0          # decision -> arrival at the venue (fixed part)
    latency_jitter_ms = 0.0   # plus a seeded uniform draw in [0, jitter]

Every rule is described in :mod:`ec_mock.market.recorded`, with a test each.
"""

from __future__ import annotations

from typing import Annotated, Literal, final

import msgspec

__all__ = ["RecordedFillModel"]


@final
class RecordedFillModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    venue: Literal["recorded", "book"] = "recorded"
    market: Literal["touch", "walk"] = "touch"
    queue: bool = True
    fill_at_touch: bool = True
    stop_trigger: Literal["trade", "quote"] = "trade"
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0)] = 0
    latency_ms: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    latency_jitter_ms: Annotated[float, msgspec.Meta(ge=0)] = 0.0

    @property
    def latency_ns(self) -> int:
        return round(self.latency_ms * 1_000_000)

    @property
    def jitter_ns(self) -> int:
        return round(self.latency_jitter_ms * 1_000_000)
