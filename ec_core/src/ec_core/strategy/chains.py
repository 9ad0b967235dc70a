"""The orders an :class:`~ec_core.strategy.tree.ActionTree` placed, followed across modifies.

A :class:`Chain` is one order from its first client id to the live one (a modify
gives it a new client id; a failed modify gives the old one back). Payload
templates that name an earlier order by template id are resolved through
:attr:`OrderChains.aliases`. Also the id counter trees use outside an engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import final

from ec_core.execution.payload import Payload
from ec_core.model import ModifyOrder, NewOrder, Order

__all__ = ["DEFAULT_IDS", "Chain", "IdCounter", "OrderChains"]


@final
class Chain:
    """One order placed by the tree, followed across modifies."""

    __slots__ = ("account_id", "chain_id", "live_id", "node", "symbol", "templates")

    def __init__(self, node: str, account_id: str, symbol: str, cl_order_id: str) -> None:
        self.node = node
        self.account_id = account_id
        self.symbol = symbol
        self.chain_id = cl_order_id
        self.live_id = cl_order_id
        self.templates: tuple[str, ...] = ()  # rarely more than one: no list kept per order


@final
class OrderChains:
    """Every order of one tree, first placed first; ``aliases`` maps template ids to
    live client ids (read by payload instantiation)."""

    __slots__ = ("_by_live", "aliases", "chains")

    def __init__(self) -> None:
        self.chains: list[Chain] = []
        self._by_live: dict[str, Chain] = {}
        self.aliases: dict[str, str] = {}

    def track(self, node: str, payload: Payload, template_id: str) -> None:
        """``node`` is sending ``payload``: a new order starts a chain, a modify moves one."""
        request = payload.request
        if isinstance(request, NewOrder):
            chain = Chain(node, request.account_id, request.symbol, request.cl_order_id)
            self.chains.append(chain)
            self._by_live[chain.live_id] = chain
            if template_id:
                chain.templates = (template_id,)
                self.aliases[template_id] = chain.live_id
        elif isinstance(request, ModifyOrder):
            modified = self._by_live.get(request.orig_cl_order_id)
            if modified is not None:
                modified.live_id = request.cl_order_id
                self._by_live[modified.live_id] = modified
                if template_id:
                    modified.templates += (template_id,)
                for t in modified.templates:
                    self.aliases[t] = modified.live_id

    def answered(self, payload: Payload, order: Order | None, error: BaseException | None) -> None:
        """The executor answered for ``payload``: take the venue's chain id; a modify
        that did not take gives the chain its old id back."""
        request = payload.request
        if order is not None:
            chain = self._by_live.get(order.cl_order_id) or self._by_live.get(request.cl_order_id)
            if chain is not None and order.chain_id:
                chain.chain_id = order.chain_id
        if error is not None and isinstance(request, ModifyOrder):
            modified = self._by_live.get(request.cl_order_id)
            if modified is not None:  # the modify did not take: the old id is still live
                modified.live_id = request.orig_cl_order_id
                for t in modified.templates:
                    self.aliases[t] = modified.live_id

    def last_order_of(self, node: str) -> tuple[str, str, str] | None:
        """``(account_id, symbol, live cl_order_id)`` of the last order ``node`` placed."""
        for chain in reversed(self.chains):
            if chain.node == node:
                return chain.account_id, chain.symbol, chain.live_id
        return None

    def all_ids(self) -> frozenset[str]:
        """Chain and live client ids of every order (to cancel what is left)."""
        return frozenset(i for c in self.chains for i in (c.chain_id, c.live_id))

    def live_ids(self, node: str | None = None) -> list[str]:
        """Live client ids of the orders placed by ``node`` (every node if ``None``)."""
        return [c.live_id for c in self.chains if node is None or c.node == node]


def chain_ids(chains: Iterable[Chain]) -> set[str]:
    """Chain and live client ids of ``chains``."""
    ids: set[str] = set()
    for chain in chains:
        ids.add(chain.chain_id)
        ids.add(chain.live_id)
    return ids


@final
class IdCounter:
    """Client and request ids from one counter, for trees not bound to an engine."""

    __slots__ = ("n", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def cl_order_id(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n}"

    def request_id(self) -> int:
        self.n += 1
        return self.n


DEFAULT_IDS = IdCounter("t")  # shared, so trees outside an engine never reuse an id
