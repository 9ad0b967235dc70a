"""Money as people read it: the instrument's decimals and its currency, never a float.

P&L of ``CLE`` (tick 0.01 x 1000 = 10.00 USD) reads ``+350.00 USD``; of ``ZN`` (tick
0.015625 x 1000 = 15.625 USD) ``-15.625 USD``. The reports, ``ec run`` and the demo
all format money here so an amount has one look everywhere.
"""

from __future__ import annotations

from decimal import Decimal

from ec_core.model.instrument import Instrument

__all__ = ["format_money", "money_places"]


def money_places(instrument: Instrument) -> int:
    """Decimals of a money amount of ``instrument``: at least 2, more if a tick is worth more
    precision (the value of one tick, ``tick_size * multiplier``)."""
    exponent = instrument.tick_value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(2, places)


def format_money(amount: Decimal, places: int, currency: str = "", *, sign: bool = False) -> str:
    """``amount`` rounded to ``places`` decimals (half even), with ``currency`` after it."""
    quantum = Decimal(1).scaleb(-places)
    text = f"{amount.quantize(quantum):{'+' if sign else ''}f}"
    return f"{text} {currency}" if currency else text
