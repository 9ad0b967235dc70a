"""Pluggable realism: how prints from outside the book fill resting orders, and latency.

Orders that meet in the book always match by price-time priority; that is the
exchange itself. :class:`FillModel` matters when prints come from *outside* the
book (recorded ticks replayed through :meth:`Exchange.apply_external_trade`): it
decides which resting orders that print would have filled in the real market.
"""

from __future__ import annotations

import random
from typing import Annotated, final

import msgspec

__all__ = ["FillModel", "LatencyModel"]


@final
class FillModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How an external print of ``size`` at ``price`` fills resting orders.

    The default is pessimistic:

    * an order priced strictly better than the print (a buy above it, a sell below
      it) was *traded through* and fills completely at its own limit price;
    * an order at the print price fills only from what is left of the print once
      the queue ahead of it (earlier orders at that price, including the recorded
      liquidity the house shows there) is consumed, in FIFO order.

    ``queue_position=False`` ignores the queue ahead (optimistic: a print at your
    price fills you first); ``fill_at_touch=False`` fills only on trade-through.
    """

    queue_position: bool = True
    fill_at_touch: bool = True


@final
class LatencyModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Inbound latency: a request reaches the matching engine ``base_ns`` plus a
    uniform ``[0, jitter_ns]`` after :meth:`Exchange.submit`. Drawn from the
    exchange's seeded generator, so a run repeats exactly."""

    base_ns: Annotated[int, msgspec.Meta(ge=0)] = 1_000_000
    jitter_ns: Annotated[int, msgspec.Meta(ge=0)] = 0

    def sample(self, rng: random.Random) -> int:
        if self.jitter_ns == 0:
            return self.base_ns
        return self.base_ns + rng.randint(0, self.jitter_ns)
