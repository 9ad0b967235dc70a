"""docs/strategy/running.md: the strategy-reference example runs as written and builds
strategies with ``OpStrategy``'s real signature."""

from __future__ import annotations

import re
from pathlib import Path

from ec_core.strategy import OpStrategy
from ec_core.strategy.loader import RunInfo, StrategyPlan

PAGE = Path(__file__).parents[3] / "docs" / "strategy" / "running.md"


def test_the_factory_example_builds_a_plan_for_the_runs_account() -> None:
    section = PAGE.read_text(encoding="utf-8").split("## The strategy reference", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    namespace: dict[str, object] = {"__name__": "my_strategy"}
    exec(compile(match.group(1), str(PAGE), "exec"), namespace)
    factory = namespace["strategy"]
    assert callable(factory)
    plan = factory(RunInfo(account_id="ACC-7", vendor="mock", mode="replay"))
    assert isinstance(plan, StrategyPlan)
    (built,) = plan.strategies
    assert isinstance(built, OpStrategy)
    assert list(built.symbols) == ["CLE"]
    assert getattr(built, "account", None) == "ACC-7"
