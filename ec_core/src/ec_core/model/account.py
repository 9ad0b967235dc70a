"""Accounts and positions as reported by a venue or derived from fills."""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["Account", "Position"]


class Account(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    account_id: str
    name: str = ""
    currency: str = "USD"
    balance: Decimal = Decimal(0)
    buying_power: Decimal = Decimal(0)


class Position(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Net position in one instrument: ``qty`` is signed (long > 0, short < 0)."""

    account_id: str
    symbol: str
    qty: int = 0
    avg_price: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)

    @property
    def is_flat(self) -> bool:
        return self.qty == 0
