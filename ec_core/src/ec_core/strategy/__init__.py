"""The strategy layer: strategies produce signals; each signal walks an action tree
whose nodes send payloads through the single execution entry point.

See ``docs/strategy/concepts.md`` for the model and a worked example.

Type-only import cycles (annotations under ``TYPE_CHECKING``; none runs at load time,
``tests/packaging/test_import_cycles.py`` checks): ``action``, ``context``, ``signal``,
``tree`` and ``validate`` name each other's types — a node's actions receive the
signal's context, the tree holds nodes and is checked by ``validate``, the signal walks
the tree — one model split into modules by job; ``report`` ↔ ``chart`` and ``report`` ↔
``report_text``: the report draws its chart and its text, each typed with the report it
draws.
"""

from ec_core.strategy.action import (
    ActionNode,
    AdvanceOn,
    Condition,
    PayloadTemplate,
    Transition,
    always,
    cancel_of,
    modify_of,
    never,
)
from ec_core.strategy.context import (
    ExecutorRouter,
    MarketClock,
    OrderRouter,
    StrategyContext,
    SupportsExecute,
    SupportsOrderBook,
)
from ec_core.strategy.engine import ErrorReport, ReplaySync, StrategyEngine
from ec_core.strategy.errors import InvalidTreeError, StrategyError, TreeProblem
from ec_core.strategy.holds import HeldPayload
from ec_core.strategy.render import to_mermaid, to_text
from ec_core.strategy.signal import OpSignal, SignalState
from ec_core.strategy.strategy import CooldownFrom, OpStrategy
from ec_core.strategy.tree import (
    ActionTree,
    BranchCount,
    CancelWorking,
    SendPayload,
    TransitionRecord,
    TreeState,
)

__all__ = [
    "ActionNode",
    "ActionTree",
    "AdvanceOn",
    "BranchCount",
    "CancelWorking",
    "Condition",
    "CooldownFrom",
    "ErrorReport",
    "ExecutorRouter",
    "HeldPayload",
    "InvalidTreeError",
    "MarketClock",
    "OpSignal",
    "OpStrategy",
    "OrderRouter",
    "PayloadTemplate",
    "ReplaySync",
    "SendPayload",
    "SignalState",
    "StrategyContext",
    "StrategyEngine",
    "StrategyError",
    "SupportsExecute",
    "SupportsOrderBook",
    "Transition",
    "TransitionRecord",
    "TreeProblem",
    "TreeState",
    "always",
    "cancel_of",
    "modify_of",
    "never",
    "to_mermaid",
    "to_text",
]
