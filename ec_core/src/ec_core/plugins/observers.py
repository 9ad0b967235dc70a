"""Observer hooks, called isolated and resolved once per set of plugins.

The tracker tells the host of every order change and fill: that is per-order flow,
and it must not go through pluggy's call machinery each time (a hook caller looked
up by name, its implementations copied, wrappers filtered). :class:`Observers` asks
pluggy once per hook which plain implementations there are, in pluggy's call order,
and keeps that until a plugin is registered or unregistered: the
:class:`CountingManager` under the host counts those changes, whichever way they are
made (the host's ``register``/``unregister`` or ``host.pluggy_manager`` directly).
With no observer, a notice costs a dictionary lookup; the per-order notices (an
order's change, a fill, a position) are resolved again by the host on each change
(``CountingManager.listeners``), so theirs costs an attribute read.

An observer that raises is counted in ``errors`` (by plugin name) and logged; it
never breaks the trading path.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, final

import pluggy

__all__ = ["CountingManager", "Observers"]

log = logging.getLogger("ec_core.plugins.host")


class CountingManager(pluggy.PluginManager):
    """A pluggy manager that counts registrations and unregistrations (``changes``),
    so what is derived from the registered plugins can be cached until the next one."""

    changes = 0

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        # called after every change, to resolve again what was derived from the plugins
        self.listeners: list[Callable[[], None]] = []

    def register(self, plugin: object, name: str | None = None) -> str | None:
        try:
            return super().register(plugin, name)
        finally:
            self._changed()

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        try:
            return super().unregister(plugin, name)
        finally:
            self._changed()

    def _changed(self) -> None:
        self.changes += 1
        for listener in self.listeners:
            listener()


@final
class Observers:
    """The plain implementations of each observer hook, resolved once per set of plugins."""

    __slots__ = ("_impls", "_pm", "_seen", "errors")

    def __init__(self, pm: CountingManager, errors: Counter[str]) -> None:
        self._pm = pm
        self.errors = errors
        self._seen = -1  # pm.changes when _impls was last valid
        self._impls: dict[str, tuple[pluggy.HookImpl, ...]] = {}

    def of(self, hook_name: str) -> tuple[pluggy.HookImpl, ...]:
        """The implementations of ``hook_name`` an observer notice calls, in pluggy's
        order (last registered first), without hook wrappers."""
        if self._seen != self._pm.changes:
            self._impls.clear()
            self._seen = self._pm.changes
        try:  # a subscript, not .get: no call on the path every order change takes
            return self._impls[hook_name]
        except KeyError:
            caller = getattr(self._pm.hook, hook_name)
            impls = self._impls[hook_name] = tuple(
                impl
                for impl in reversed(caller.get_hookimpls())
                if not (impl.hookwrapper or impl.wrapper)
            )
            return impls

    def call(
        self, hook_name: str, impls: tuple[pluggy.HookImpl, ...], kwargs: Mapping[str, Any]
    ) -> None:
        """Call each of ``impls`` (from :meth:`of`) with its arguments out of ``kwargs``;
        one that raises is counted and logged, and the others still run."""
        for impl in impls:
            try:
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception:
                self.errors[impl.plugin_name] += 1
                log.exception("observer %s of plugin %s raised", hook_name, impl.plugin_name)
