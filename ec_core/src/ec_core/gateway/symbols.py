"""Which symbols a worker may make the gateway resolve: well-formed ones, a bounded number
per request and per worker.

The gateway resolves each symbol a worker names (in a lookup, a subscription or an
intent) at the venue, a round trip each, and keeps what resolves. A listed worker that is
buggy or hostile could name thousands; these rules, checked after the allow-list
(:mod:`~ec_core.gateway.access`) and before anything is resolved, bound that:

* ``SYMBOL_MALFORMED`` (field ``symbols``, an intent's ``symbol``): empty, padded with
  spaces, unprintable, or longer than :data:`MAX_SYMBOL_LENGTH` characters.
* ``TOO_MANY_SYMBOLS`` (field ``symbols``): more than ``max_symbols_per_request`` in one
  lookup or subscription.
* ``SYMBOL_LIMIT_REACHED`` (field ``symbols`` / ``symbol``): the worker would have named
  more than ``max_symbols_per_worker`` distinct symbols since the gateway started.

A refused request is answered ``DENIED`` with the violation, and none of its symbols is
resolved. Only listed workers reach these rules, so what is counted grows with the
config, never with the names on the intents stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

from ec_core.errors import Violation
from ec_core.safety.clean_id import CLEAN_ID_RULE, is_clean_id

__all__ = ["MAX_SYMBOL_LENGTH", "SYMBOL_RULE", "SymbolQuota", "is_symbol"]

MAX_SYMBOL_LENGTH = 64
SYMBOL_RULE = f"non-empty, {CLEAN_ID_RULE}, at most {MAX_SYMBOL_LENGTH} characters"
"""What :func:`is_symbol` asks of a symbol, as a refusal words it."""


def is_symbol(symbol: object) -> bool:
    """Whether ``symbol`` is :data:`SYMBOL_RULE`."""
    return isinstance(symbol, str) and 0 < len(symbol) <= MAX_SYMBOL_LENGTH and is_clean_id(symbol)


def _shown(symbol: str) -> str:
    """A refused symbol as a violation names it: its repr (a control character shows),
    cut to a readable length."""
    text = repr(symbol)
    return text if len(text) <= MAX_SYMBOL_LENGTH + 2 else f"{text[:MAX_SYMBOL_LENGTH]}..."


@final
class SymbolQuota:
    """The symbol rules of one gateway, and the distinct symbols each worker named."""

    __slots__ = ("_named", "per_request", "per_worker")

    def __init__(self, *, per_request: int, per_worker: int) -> None:
        self.per_request = per_request
        self.per_worker = per_worker
        self._named: dict[str, set[str]] = {}  # listed worker -> the symbols it named

    def named(self, worker: str) -> int:
        """How many distinct symbols ``worker`` has named."""
        return len(self._named.get(worker, ()))

    def refusal(
        self, worker: str, symbols: Sequence[str], *, field: str = "symbols"
    ) -> Violation | None:
        """The rule ``worker`` breaks by naming ``symbols``, or ``None`` (they are then
        counted as named)."""
        if len(symbols) > self.per_request:
            return Violation(
                code="TOO_MANY_SYMBOLS",
                field=field,
                rule=f"at most {self.per_request} symbols in one request"
                " (gateway.max_symbols_per_request in the gateway's config): ask in parts",
                value=len(symbols),
                limit=self.per_request,
            )
        named = self._named.setdefault(worker, set())
        if named.issuperset(symbols):  # every intent of a known symbol: checked already
            return None
        for symbol in symbols:
            if not is_symbol(symbol):
                return Violation(
                    code="SYMBOL_MALFORMED", field=field, rule=SYMBOL_RULE, value=_shown(symbol)
                )
        new = set(symbols).difference(named)
        if len(named) + len(new) > self.per_worker:
            return Violation(
                code="SYMBOL_LIMIT_REACHED",
                field=field,
                rule=f"worker {worker} may name at most {self.per_worker} distinct symbols"
                f" (gateway.max_symbols_per_worker in the gateway's config); it has named"
                f" {len(named)}, this request {len(new)} more",
                value=", ".join(sorted(new)[:5]) + (", ..." if len(new) > 5 else ""),
                limit=self.per_worker,
            )
        named.update(new)
        return None
