"""Find a user's strategy from the command line: ``path/to/file.py:factory`` or ``pkg.mod:factory``.

The factory is called once per run, with a :class:`RunInfo` if it takes an
argument, and returns one :class:`OpStrategy`, several, or a :class:`StrategyPlan`
when it also wants to choose the feeds' timeframes. Without ``:factory`` the name
``strategy`` is looked up.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, final

import msgspec

from ec_core.errors import ConfigError
from ec_core.strategy.strategy import OpStrategy

__all__ = ["DEFAULT_FACTORY", "RunInfo", "StrategyPlan", "load_factory", "load_plan"]

DEFAULT_FACTORY = "strategy"


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a factory may want to know about the run it is built for."""

    account_id: str
    vendor: str
    mode: str  # "run" or "replay"


@final
class StrategyPlan:
    """Strategies plus the feed configuration they read."""

    __slots__ = ("stats_window", "strategies", "timeframes")

    def __init__(
        self,
        strategies: Sequence[OpStrategy],
        *,
        timeframes: Sequence[str] = ("1s", "1m", "5m"),
        stats_window: int = 20,
    ) -> None:
        if not strategies:
            raise ConfigError("the strategy factory returned no strategy", path="strategy")
        self.strategies = tuple(strategies)
        self.timeframes = tuple(timeframes)
        self.stats_window = stats_window

    @property
    def symbols(self) -> list[str]:
        """Every symbol a strategy trades, in first-seen order."""
        seen: dict[str, None] = {}
        for strategy in self.strategies:
            for symbol in strategy.symbols:
                seen.setdefault(symbol, None)
        return list(seen)


def load_factory(spec: str) -> Callable[..., Any]:
    """The callable named by ``spec``; :class:`ConfigError` (path ``strategy``) if not found."""
    target, _, attr = spec.partition(":")
    if not target:
        raise ConfigError(f"empty strategy reference {spec!r}", path="strategy")
    attr = attr or DEFAULT_FACTORY
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _module_from_file(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"cannot import {target!r}: {exc}", path="strategy") from exc
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise ConfigError(f"{target!r} has no callable {attr!r}", path="strategy")
    return factory  # type: ignore[no-any-return]


def _module_from_file(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"strategy file not found: {path}", path="strategy")
    name = f"ec_user_strategy_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as a module", path="strategy")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def load_plan(spec: str, info: RunInfo) -> StrategyPlan:
    """Load ``spec``, call the factory for ``info``, and normalise what it returned."""
    factory = load_factory(spec)
    try:
        takes_info = bool(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        takes_info = False
    made = factory(info) if takes_info else factory()
    if isinstance(made, StrategyPlan):
        return made
    if isinstance(made, OpStrategy):
        return StrategyPlan([made])
    if isinstance(made, Sequence) and all(isinstance(s, OpStrategy) for s in made):
        return StrategyPlan(list(made))
    raise ConfigError(
        f"the factory must return an OpStrategy, a list of them or a StrategyPlan,"
        f" got {type(made).__name__}",
        path="strategy",
    )
