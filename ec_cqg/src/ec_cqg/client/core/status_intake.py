"""Order statuses into the trade book, and the contracts they need first.

A status can name a contract the logon has not resolved (an order placed elsewhere):
the status waits in the contract directory while the core asks for the contract's
metadata by id, then goes to the book; if the contract cannot be learned, the statuses
that waited are dropped and the next trade snapshot settles those orders.
"""

from __future__ import annotations

import logging

from ec_core.errors import PriceError, ProtocolError

import ec_cqg.client.core.information as info
from ec_cqg.client.core.state import NS, ProtocolState
from ec_cqg.protocol.correlation import Answer
from ec_cqg.protocol.pb import order_2

__all__ = ["StatusIntake"]

log = logging.getLogger("ec_cqg.client")


class StatusIntake(ProtocolState):
    """Hands order statuses to the book once their contract is known."""

    def _order_status(self, status: order_2.OrderStatus, live: bool, publish: bool) -> int:
        contracts = self.contracts
        contract_id = contracts.contract_to_learn(status)
        if contract_id is None:
            return self.book.on_order_status(status, live=live, publish=publish)
        if contracts.hold(status, contract_id, live, publish):
            self._learn(contract_id)
        return 0

    def _learn(self, contract_id: int) -> None:
        """Ask for the metadata of a contract a status names; deliver what waits on it."""
        self.counters["contracts_learned_by_id"] += 1
        _call, frame = self.calls.start(
            info.contract_metadata_message(next(self._ids), contract_id),
            lambda answers: self._learned(contract_id, answers),
            deadline_ns=self._now_ns + int(self._request_timeout_s * NS),
            on_error=lambda exc: self._drop_held(contract_id, str(exc)),
        )
        self._outbox.append(frame)

    def _learned(self, contract_id: int, answers: list[Answer]) -> None:
        self.contracts.book.add_metadata(info.metadata_of(contract_id, answers))
        for status, live, publish in self.contracts.release(contract_id):
            try:
                self._order_status(status, live, publish)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an order status: %s", exc)

    def _drop_held(self, contract_id: int, reason: str) -> None:
        """The contract cannot be learned (line lost, refused): the next snapshot settles
        the orders whose statuses waited for it."""
        held = self.contracts.release(contract_id)
        self.counters["statuses_dropped_unresolved"] += len(held)
        log.warning(
            "cqg: %d order statuses of contract %d dropped (%s)", len(held), contract_id, reason
        )

    def _apply_snapshot(self, now_ns: int) -> None:
        self.snapshot.apply(self._order_status, now_ns)
        self.ready = True
