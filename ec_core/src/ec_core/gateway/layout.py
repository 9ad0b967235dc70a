"""Which stream holds what: one namespace, names per worker, account and symbol.

::

    {ns}:intents               every worker's intents and requests; read by the gateway's
                               consumer group, acknowledged only once answered (never trimmed
                               before that)
    {ns}:replies:{worker}      one answer per intent, then that worker's orders' events;
                               trimmed by the worker itself, up to what it has read
    {ns}:account:{account}     every trade event of the account (orders, fills, positions),
                               numbered; trimmed to ``account_maxlen`` (a reader behind
                               that resyncs from a snapshot)
    {ns}:md:{symbol}           market data, numbered per symbol; trimmed to ``market_maxlen``
                               (MAXLEN ~): a slow reader loses old quotes, never the gateway's
                               memory
    {ns}:status                a hash: the gateway's counters (intents, answers, drops,
                               workers' heartbeats and market gaps)
"""

from __future__ import annotations

from typing import final

__all__ = ["GROUP", "StreamLayout"]

GROUP = "gateway"  # the consumer group of the intents stream


@final
class StreamLayout:
    """The stream names of one gateway namespace (default ``ec``)."""

    __slots__ = ("intents", "namespace", "status")

    def __init__(self, namespace: str = "ec") -> None:
        if not namespace or any(c in namespace for c in " \t\n"):
            raise ValueError(f"namespace {namespace!r}: non-empty, no whitespace")
        self.namespace = namespace
        self.intents = f"{namespace}:intents"
        self.status = f"{namespace}:status"

    def replies(self, worker: str) -> str:
        return f"{self.namespace}:replies:{worker}"

    def account(self, account_id: str) -> str:
        return f"{self.namespace}:account:{account_id}"

    def market(self, symbol: str) -> str:
        return f"{self.namespace}:md:{symbol}"
