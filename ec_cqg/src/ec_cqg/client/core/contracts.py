"""The contract directory of one logon: symbols ↔ contract ids, and statuses held for
contracts not known yet.

Contract ids live for one logon (a restored session keeps them; a fresh logon clears
them and every known symbol is resolved again). An order status may name a contract we
never resolved (an order placed elsewhere, and the status that carried its metadata was
lost): it is held, in order, until the contract's metadata arrives by id; later statuses
of the same chain wait behind it so a chain's statuses are never reordered.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import final

from ec_core.model import Instrument

from ec_cqg.protocol.mapping.reports import (
    ContractBook,
    ContractRef,
    ReportMapper,
    instrument_from_metadata,
)
from ec_cqg.protocol.pb import metadata_2, order_2

__all__ = ["ContractDirectory", "HeldStatus"]

HeldStatus = tuple[order_2.OrderStatus, bool, bool]  # status, live, publish


@final
class ContractDirectory:
    """Resolved symbols, the contract book and the report mapper over it."""

    __slots__ = (
        "_held",
        "_instruments",
        "_negative_prices",
        "_symbol_of",
        "_waiting_chains",
        "book",
        "mapper",
    )

    def __init__(self, *, negative_prices: Collection[str] = ()) -> None:
        self.book = ContractBook()
        self._negative_prices = frozenset(negative_prices)
        self.mapper = ReportMapper(self.book)
        self._instruments: dict[str, tuple[Instrument, ContractRef]] = {}
        self._symbol_of: dict[int, str] = {}
        self._held: dict[int, list[HeldStatus]] = {}
        self._waiting_chains: dict[str, int] = {}

    # -- symbols -----------------------------------------------------------------

    def remember(
        self, symbol: str, metadata: metadata_2.ContractMetadata
    ) -> tuple[Instrument, ContractRef]:
        # negative_prices names products (docs/cqg/client.md): a dated contract (CLEZ26)
        # matches by its product, CQG's instrument group (F.US.CLE, short CLE), each exact
        named = (
            symbol,
            metadata.contract_symbol,
            metadata.instrument_group_name,
            metadata.short_instrument_group_name,
        )
        instrument = instrument_from_metadata(
            metadata, symbol=symbol, negative_prices=not self._negative_prices.isdisjoint(named)
        )
        ref = self.book.add_metadata(metadata, symbol=symbol)
        self._instruments[symbol] = (instrument, ref)
        self._symbol_of[ref.contract_id] = symbol
        return instrument, ref

    def resolved(self, symbol: str) -> tuple[Instrument, ContractRef] | None:
        return self._instruments.get(symbol)

    def ref(self, symbol: str) -> ContractRef:
        """The contract of a resolved symbol (KeyError if it is not)."""
        return self._instruments[symbol][1]

    def symbol_of(self, contract_id: int) -> str:
        """The symbol of a contract: as we resolved it, else as its metadata names it."""
        symbol = self._symbol_of.get(contract_id)
        if symbol:
            return symbol
        ref = self.book.get(contract_id)
        return ref.symbol if ref is not None else ""

    def forget_logon(self) -> list[str]:
        """A fresh logon: contract ids are void. Returns the symbols to resolve again."""
        symbols = list(self._instruments)
        self.book.clear()
        self._symbol_of.clear()
        self._instruments.clear()
        return symbols

    # -- statuses of contracts not known yet ---------------------------------------

    def contract_to_learn(self, status: order_2.OrderStatus) -> int | None:
        """The contract ``status`` must wait for, if any: one whose metadata we never
        got, or the one an earlier status of the same chain already waits for."""
        waiting = self._waiting_chains.get(status.chain_order_id)
        if waiting is not None:
            return waiting
        if not status.HasField("order"):
            return None
        contract_id = status.order.contract_id
        if self.book.get(contract_id) is not None:
            return None
        if any(m.contract_id == contract_id for m in status.contract_metadata):
            return None
        return contract_id

    def hold(
        self, status: order_2.OrderStatus, contract_id: int, live: bool, publish: bool
    ) -> bool:
        """Hold ``status`` until ``contract_id`` is known; True if it must be asked for."""
        self._waiting_chains[status.chain_order_id] = contract_id
        held = self._held.get(contract_id)
        if held is not None:
            held.append((status, live, publish))
            return False
        self._held[contract_id] = [(status, live, publish)]
        return True

    def release(self, contract_id: int) -> list[HeldStatus]:
        """The statuses held for ``contract_id``, in arrival order; none are held after."""
        held = self._held.pop(contract_id, [])
        for status, _live, _publish in held:
            self._waiting_chains.pop(status.chain_order_id, None)
        return held

    def held_contracts(self) -> list[int]:
        return list(self._held)
