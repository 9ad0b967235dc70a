"""Errors of the market-data layer."""

from __future__ import annotations

from typing import final

from ec_core.errors import EcError

__all__ = ["NoDataError"]


@final
class NoDataError(EcError, LookupError):
    """Asked for a bar, price or feed that has no data yet (or was never configured)."""

    def __init__(self, message: str, *, symbol: str, timeframe: str | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.timeframe = timeframe
