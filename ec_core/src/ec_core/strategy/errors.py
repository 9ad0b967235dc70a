"""Errors of the strategy layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

import msgspec

from ec_core.errors import EcError

__all__ = ["InvalidTreeError", "StrategyError", "TreeProblem"]


class TreeProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One defect of an action tree: a stable ``code`` and the nodes involved.

    Codes: ``cycle`` (``nodes`` is the loop, first node repeated at the end),
    ``missing_node`` (a transition names a node that does not exist),
    ``unreachable_node``, ``duplicate_node`` (two different nodes share a name),
    ``overtime_incomplete`` (an overtime node without a condition or timeout, the
    reverse, or a timeout that is not an int of nanoseconds >= 0),
    ``bad_transition`` (a transition that is not ``(condition, child)``),
    ``bad_node`` (the root, a declared node or the overtime node is not an ActionNode).
    """

    code: str
    nodes: tuple[str, ...]
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.code}: {' -> '.join(self.nodes)}"
        return f"{text} ({self.detail})" if self.detail else text


@final
class InvalidTreeError(EcError, ValueError):
    """An action tree cannot run; raised when it is built, before any order is sent."""

    def __init__(self, problems: Sequence[TreeProblem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid action tree ({len(self.problems)} problem(s)): {listed}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)


class StrategyError(EcError):
    """A running strategy asked for something that cannot be done.

    Examples: an action refers to the order of a node that placed none, an engine without
    an order router is asked to send, a replay is asked to wait on its own clock. The
    message says what to change; nothing is sent.
    """
