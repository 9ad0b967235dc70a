"""What is wrong with a plugin's hook implementations, found when it is registered.

:class:`~ec_core.plugins.host.PluginHost` registers plugins; these checks only look at
one plugin against the plugin manager and say what they find: an ``async def`` hook
(refused: pluggy calls, never awaits), a function named like a hook but not marked
(a warning: pluggy ignores it), a plain part hook that hides every other plugin's
wrapper (deprecated), and the one-line text a failure is recorded with. Kept apart
so the host's module holds loading, calling and isolating, not plugin linting.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pluggy

from ec_core.errors import PluginError

__all__ = [
    "describe",
    "reject_async_hooks",
    "replacing_part_hooks",
    "unmarked_hooks",
    "warn_deprecated",
]


def reject_async_hooks(plugin: object, pm: pluggy.PluginManager) -> None:
    """Refuse ``async def`` hooks *before* pluggy sees them: it calls, never awaits."""
    for attr in dir(plugin):
        options = pm.parse_hookimpl_opts(plugin, attr)
        if options is None:
            continue
        function = getattr(plugin, attr)
        if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
            raise PluginError(
                f"hook {attr} is async; ec hooks must be synchronous"
                " (return an object whose methods are async instead)"
            )


def unmarked_hooks(plugin: object, pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Functions named like a hook but not marked ``@hookimpl``: pluggy ignores them."""
    module = getattr(plugin, "__name__", None) if isinstance(plugin, ModuleType) else None
    found = []
    for attr in sorted(dir(plugin)):
        if not attr.startswith("ec_") or pm.parse_hookimpl_opts(plugin, attr) is not None:
            continue
        function = inspect.getattr_static(plugin, attr, None)
        if isinstance(function, (staticmethod, classmethod)):
            function = function.__func__
        if not inspect.isfunction(function):
            continue
        if module is not None and function.__module__ != module:
            continue  # imported from elsewhere, not defined by this plugin
        known = " (a hook ec declares)" if hasattr(pm.hook, attr) else ""
        found.append(f"{attr} is named like a hook{known} but not marked @hookimpl: ignored")
    return tuple(found)


_PART_HOOKS = ("ec_order_gateway", "ec_market_data", "ec_trade_monitor")
_REPLACES = "hides every other plugin's wrapper: use @hookimpl(wrapper=True) (deprecated)"


def replacing_part_hooks(plugin: object, pm: pluggy.PluginManager) -> tuple[str, ...]:
    """A plain implementation of a part hook returns its own part instead of wrapping the
    one it is given, so only one plugin's wins; a wrapper composes with the others."""
    found = []
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.name not in _PART_HOOKS:
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                found.append(f"{caller.name} is a plain implementation that {_REPLACES}")
    return tuple(found)


def warn_deprecated(message: str) -> None:
    import warnings

    warnings.warn(message, DeprecationWarning, stacklevel=4)


def describe(exc: BaseException) -> str:
    """One line (pluggy's messages span several), so listings and logs stay readable."""
    text = str(exc) or repr(exc)
    if isinstance(exc, pluggy.PluginValidationError):
        text = f"hook signature does not match the spec: {text}"
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
