"""Find a user's strategy from the command line: ``path/to/file.py:factory`` or ``pkg.mod:factory``.

The factory is called once per run, with a :class:`RunInfo` if it takes an
argument, and returns one :class:`OpStrategy`, several, or a :class:`StrategyPlan`
when it also wants to choose the feeds' timeframes. Without ``:factory`` the name
``strategy`` is looked up.

Whatever goes wrong in the user's code while loading (a syntax error, a failing
import, a factory that raises, a class where a factory is expected) is one
:class:`StrategyLoadError` naming the file and line in the user's code; the
original exception stays as its ``__cause__`` for ``ec -v``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, final

import msgspec

from ec_core.errors import ConfigError
from ec_core.strategy.failures import DEFAULT_MAX_CONSECUTIVE_FAILURES
from ec_core.strategy.strategy import OpStrategy
from ec_core.strategy.usercode import as_typed, user_frame

__all__ = [
    "DEFAULT_FACTORY",
    "RunInfo",
    "StrategyLoadError",
    "StrategyPlan",
    "load_factory",
    "load_plan",
]

DEFAULT_FACTORY = "strategy"
FACTORY_SHAPE = "STRATEGY must be a factory `def strategy(info) -> StrategyPlan`"


@final
class StrategyLoadError(ConfigError):
    """The user's strategy could not be loaded; ``file`` and ``line`` locate it in their code."""

    def __init__(self, message: str, *, file: str | None, line: int | None) -> None:
        file = as_typed(file) if file else file
        where = f"{file}:{line}" if file and line else file
        super().__init__(message, file=where)
        self.file = file
        self.line = line


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a factory may want to know about the run it is built for."""

    account_id: str
    vendor: str
    mode: str  # "run" or "replay"
    # one point of a parameter sweep (``ec replay --param NAME=V1,V2``), values as given
    params: dict[str, str] = msgspec.field(default_factory=dict)


@final
class StrategyPlan:
    """Strategies plus the feed configuration they read."""

    __slots__ = ("max_consecutive_failures", "stats_window", "strategies", "timeframes")

    def __init__(
        self,
        strategies: Sequence[OpStrategy],
        *,
        timeframes: Sequence[str] = ("1s", "1m", "5m"),
        stats_window: int = 20,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        if not strategies:
            raise ConfigError("the strategy factory returned no strategy", path="strategy")
        if max_consecutive_failures < 1:
            raise ConfigError(
                f"max_consecutive_failures must be >= 1, got {max_consecutive_failures}",
                path="strategy",
            )
        self.strategies = tuple(strategies)
        self.timeframes = tuple(timeframes)
        self.stats_window = stats_window
        # a strategy whose code fails this many times in a row is disabled for the run
        self.max_consecutive_failures = max_consecutive_failures

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
        module = _module_by_name(target)
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise ConfigError(f"{target!r} has no callable {attr!r}", path="strategy")
    if inspect.isclass(factory):
        file, line = _definition(factory, module)
        raise StrategyLoadError(
            f"{FACTORY_SHAPE}; {attr!r} is a class: write a function that returns"
            " an instance of it",
            file=file,
            line=line,
        )
    return factory  # type: ignore[no-any-return]


def _module_by_name(target: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is not None and target.startswith(exc.name):
            raise ConfigError(f"cannot import {target!r}: {exc}", path="strategy") from exc
        raise _in_user_code(exc, "importing the strategy module raised", target) from exc
    except Exception as exc:
        raise _in_user_code(exc, "importing the strategy module raised", target) from exc


def _module_from_file(path: Path) -> ModuleType:
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
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise StrategyLoadError(
            f"syntax error: {exc.msg}", file=exc.filename or str(path), line=exc.lineno
        ) from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _in_user_code(exc, "importing the strategy file raised", str(path)) from exc
    return module


def _in_user_code(exc: BaseException, what: str, fallback: str) -> StrategyLoadError:
    """``exc`` located at the deepest frame of the user's code (never inside ec or a library)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return StrategyLoadError(f"syntax error: {exc.msg}", file=exc.filename, line=exc.lineno)
    file, line = user_frame(exc) or (fallback, None)
    return StrategyLoadError(f"{what} {type(exc).__name__}: {exc}", file=file, line=line)


def _definition(obj: Any, module: ModuleType) -> tuple[str | None, int | None]:
    """Where ``obj`` is defined (file and first line), as best Python can tell."""
    try:
        file = inspect.getsourcefile(obj) or getattr(module, "__file__", None)
        _, line = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return getattr(module, "__file__", None), None
    return file, line


def load_plan(spec: str, info: RunInfo) -> StrategyPlan:
    """Load ``spec``, call the factory for ``info``, and normalise what it returned."""
    factory = load_factory(spec)
    try:
        takes_info = bool(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        takes_info = False
    name = getattr(factory, "__name__", spec)
    try:
        made = factory(info) if takes_info else factory()
    except Exception as exc:
        raise _in_user_code(exc, f"the strategy factory {name!r} raised", spec) from exc
    if isinstance(made, StrategyPlan):
        return made
    if isinstance(made, OpStrategy):
        return StrategyPlan([made])
    if isinstance(made, Sequence) and all(isinstance(s, OpStrategy) for s in made):
        return StrategyPlan(list(made))
    file, line = _definition(factory, inspect.getmodule(factory) or sys)
    raise StrategyLoadError(
        f"the factory must return an OpStrategy, a list of them or a StrategyPlan,"
        f" got {type(made).__name__}",
        file=file,
        line=line,
    )
