"""Product rules in ticks: what the engine's rules and matching read per instrument.

:class:`~ec_mock.instruments.ProductRules` is what a user writes (the ``rules`` table
of a TOML instrument, prices in price units); :class:`ProductLimits` is the same in
ticks, computed once when the exchange lists the instrument.
An instrument without product rules keeps the engine's plain behaviour: no price
protection, no bands, every order type and instruction the engine supports.
"""

from __future__ import annotations

from decimal import Decimal
from typing import final

from ec_core.errors import ConfigError, PriceError
from ec_core.model import Instrument

from ec_mock.instruments import ProductRules

__all__ = ["ProductLimits"]


def _ticks(instrument: Instrument, points: Decimal, what: str) -> int:
    ticks, rest = divmod(points, instrument.tick_size)
    if rest or points <= 0:
        raise ConfigError(
            f"{instrument.symbol}: {what} {points} must be a positive multiple of the tick"
            f" {instrument.tick_size}",
            path=f"rules.{what}",
        )
    return int(ticks)


@final
class ProductLimits:
    """:class:`ProductRules` of one instrument in ticks (``None``: the rule is off)."""

    __slots__ = (
        "band",
        "exec_instructions",
        "halt_ns",
        "min_price",
        "order_types",
        "preopen_ns",
        "protection",
        "rules",
        "settlement_ns",
        "velocity",
        "velocity_ns",
    )

    def __init__(self, instrument: Instrument, rules: ProductRules | None) -> None:
        self.rules = rules
        self.protection: int | None = None
        self.band: int | None = None
        self.min_price: int | None = None
        self.order_types = rules.order_types if rules is not None else None
        self.exec_instructions = rules.exec_instructions if rules is not None else None
        self.preopen_ns = 0
        self.velocity: int | None = None
        self.velocity_ns = 0
        self.halt_ns = 0
        self.settlement_ns = 0  # the closing range of the daily settlement (0: none)
        # the lowest price is the instrument's (rules.min_price is copied there when
        # loaded); rules.min_price still counts for rules built in code
        floor = instrument.min_price
        if rules is not None and rules.min_price is not None:
            floor = rules.min_price
        if floor is not None:
            try:
                self.min_price = instrument.to_ticks(floor)
            except PriceError as exc:
                raise ConfigError(str(exc), path="rules.min_price") from None
        if rules is None:
            return
        if rules.settlement_seconds is not None:
            if rules.settlement_seconds <= 0:
                raise ConfigError(
                    f"{instrument.symbol}: settlement_seconds must be > 0",
                    path="rules.settlement_seconds",
                )
            self.settlement_ns = rules.settlement_seconds * 1_000_000_000
        if rules.velocity_points is not None:
            self.velocity = _ticks(instrument, rules.velocity_points, "velocity_points")
            if rules.velocity_seconds <= 0 or rules.halt_seconds <= 0:
                raise ConfigError(
                    f"{instrument.symbol}: velocity_seconds and halt_seconds must be > 0",
                    path="rules.velocity_seconds",
                )
            self.velocity_ns = rules.velocity_seconds * 1_000_000_000
            self.halt_ns = rules.halt_seconds * 1_000_000_000
        if rules.preopen_minutes is not None:
            if rules.preopen_minutes < 0:
                raise ConfigError(
                    f"{instrument.symbol}: preopen_minutes must be >= 0",
                    path="rules.preopen_minutes",
                )
            self.preopen_ns = rules.preopen_minutes * 60_000_000_000
        if rules.protection_points is not None:
            self.protection = _ticks(instrument, rules.protection_points, "protection_points")
        if rules.band_points is not None:
            self.band = _ticks(instrument, rules.band_points, "band_points")
