"""Contracts as a CQG server shows them: price scales, metadata, per-session contract ids.

CQG assigns ``contract_id`` per session, so every session has its own
:class:`SessionContracts`. The price scale is a property of the instrument and the same
for everyone: ``correct_price_scale`` is ``10^e`` where ``e`` is the exponent of the
tick size (0.25 → 0.01, 0.015625 → 0.000001), the way CQG quotes decimal futures, so a
scaled price is an exact integer and the tick is a whole number of scaled units.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from ec_core.model import Instrument

from ec_cqg.protocol.pb import metadata_2
from ec_cqg.protocol.prices import PriceScale, decimal_to_cqg
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["SessionContracts", "contract_metadata", "price_scale_of"]

_FUTURE_CFI = "FXXXXX"


@cache
def _scale_exponent(tick_size: Decimal) -> int:
    exponent = tick_size.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return min(exponent, 0)


def price_scale_of(instrument: Instrument) -> PriceScale:
    """The contract's wire price scale (see the module docstring)."""
    return _price_scale(instrument.tick_size)


@cache
def _price_scale(tick_size: Decimal) -> PriceScale:
    scale = Decimal(1).scaleb(_scale_exponent(tick_size))
    return PriceScale(correct_price_scale=scale, tick_size=tick_size)


def contract_metadata(
    instrument: Instrument, contract_id: int, *, session_info_id: int, base: BaseTime
) -> metadata_2.ContractMetadata:
    """``ContractMetadata`` with every required field (and the useful optional ones) filled."""
    scale = price_scale_of(instrument)
    title = instrument.description or instrument.symbol
    meta = metadata_2.ContractMetadata(
        contract_id=contract_id,
        contract_symbol=instrument.symbol,
        correct_price_scale=float(scale.scale),
        display_price_scale=-_scale_exponent(instrument.tick_size),
        description=title,
        title=title,
        tick_size=float(instrument.tick_size),
        currency=instrument.currency,
        tick_value=float(instrument.tick_value),
        cfi_code=_FUTURE_CFI,
        is_most_active=True,
        margin_style=metadata_2.ContractMetadata.MARGIN_STYLE_FUTURE,
        instrument_group_name=instrument.symbol,
        session_info_id=session_info_id,
        short_instrument_group_name=instrument.symbol,
        instrument_group_description=title,
        country_code="US",
        contract_size=str(instrument.multiplier),
        price_display_mode=metadata_2.PRICE_DISPLAY_MODE_ROUNDED,
        symbol_id=instrument.symbol,
        cqg_contract_symbol=instrument.symbol,
    )
    decimal_to_cqg(Decimal(1), meta.trade_size_increment)
    return meta


class SessionContracts:
    """Contract ids of one session: assigned on first sight (resolution or a trade event)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._symbols: dict[int, str] = {}
        self._announced: set[int] = set()

    def id_of(self, symbol: str) -> int:
        contract_id = self._ids.get(symbol)
        if contract_id is None:
            contract_id = len(self._ids) + 1
            self._ids[symbol] = contract_id
            self._symbols[contract_id] = symbol
        return contract_id

    def get_id(self, symbol: str) -> int | None:
        """The id of ``symbol`` if the session has seen it (assigns nothing)."""
        return self._ids.get(symbol)

    def symbol_of(self, contract_id: int) -> str | None:
        return self._symbols.get(contract_id)

    def announced(self, contract_id: int) -> bool:
        """True once the session has been sent the contract's metadata."""
        return contract_id in self._announced

    def announce(self, contract_id: int) -> bool:
        """True the first time the client is told about ``contract_id`` (send its metadata)."""
        if contract_id in self._announced:
            return False
        self._announced.add(contract_id)
        return True

    def __len__(self) -> int:
        return len(self._ids)
