"""The values an :class:`~ec_core.strategy.tree.ActionTree` hands out: its state,
the record of each move, the commands in its outbox and the branch counts.

Kept apart from the state machine so the engine, the holds and the report can name
them without the machine's code.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from ec_core.execution.payload import Payload

__all__ = [
    "BranchCount",
    "CancelWorking",
    "Command",
    "SendPayload",
    "TransitionRecord",
    "TreeState",
]


class TreeState(StrEnum):
    WAITING = "WAITING"  # the active node waits for its trigger
    FIRING = "FIRING"  # its payloads are on their way
    ARMED = "ARMED"  # its payloads are through; its branches are evaluated
    DONE = "DONE"  # an end node has fired
    FAILED = "FAILED"  # a payload failed or a condition raised
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (TreeState.DONE, TreeState.FAILED, TreeState.CANCELLED)


class TransitionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One move of the tree. ``kind``: fire, arm, branch, overtime, done, failed, cancelled."""

    ts_ns: int
    kind: str
    source: str
    target: str
    reason: str


class SendPayload(msgspec.Struct, kw_only=True):
    """Command: execute ``payload`` for ``node``."""

    payload: Payload
    node: str


class CancelWorking(msgspec.Struct, frozen=True, kw_only=True):
    """Command: cancel whichever of these orders (chain or client ids) are still working."""

    order_ids: frozenset[str]
    reason: str


Command = SendPayload | CancelWorking


class BranchCount:
    """How often a branch was taken, and how often it held while an earlier one won."""

    __slots__ = ("shadowed", "shadowed_by", "taken")

    def __init__(self) -> None:
        self.taken = 0
        self.shadowed = 0
        self.shadowed_by = ""  # the earlier branch taken the last time this one held
