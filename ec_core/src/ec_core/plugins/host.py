"""The typed facade that owns the pluggy ``PluginManager``.

The rest of ec calls methods of :class:`PluginHost`, never ``pm.hook.*``
directly, so every hook call site is typed and the rules of
:mod:`ec_core.plugins.hookspecs` (sync hooks, isolated observers) live in one place.

Loading is defensive: each ``ec.plugins`` entry point is loaded and registered
in its own ``try``; a plugin that fails to import, implements an unknown hook,
has a hook whose arguments do not match the spec, or defines an ``async def``
hook is unregistered and recorded as failed with the cause, together with every
sub-plugin it registered from its ``ec_addhooks``. Other plugins keep working;
``strict=True`` re-raises instead. A function named like a hook (``ec_*``) but not
marked ``@hookimpl`` is recorded as a warning on its plugin: pluggy ignores it.
Those checks of one plugin are :mod:`ec_core.plugins.hook_checks`; what is recorded
per plugin is :mod:`ec_core.plugins.plugin_record`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any, final

import pluggy

from ec_core.errors import AmbiguousVendorError, PluginError, VendorNotFoundError, Violation
from ec_core.model import Fill, Order, OrderRequest, Position, SessionState
from ec_core.plugins import hookspecs
from ec_core.plugins.hook_checks import (
    describe,
    reject_async_hooks,
    replacing_part_hooks,
    unmarked_hooks,
    warn_deprecated,
)
from ec_core.plugins.markers import PROJECT
from ec_core.plugins.observers import CountingManager, Observers
from ec_core.plugins.parts import SessionParts
from ec_core.plugins.plugin_record import PluginRecord, PluginStatus
from ec_core.plugins.registry import VendorRegistry
from ec_core.validation import ValidatorRegistry
from ec_core.vendor import MarketDataFeed, OrderGateway, Session, TradeMonitor, VendorFactory

if TYPE_CHECKING:  # tracking imports this module
    from ec_core.tracking import FillAnomaly

__all__ = [
    "ENTRY_POINT_GROUP",
    "KNOWN_COMMANDS",
    "KNOWN_DISTRIBUTIONS",
    "PluginHost",
    "PluginRecord",
    "PluginStatus",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ec.plugins"
BUILTIN_PLUGINS: tuple[str, ...] = ("ec_core.builtin.defaults", "ec_core.builtin.validators")
# Where to get a vendor that is not installed: named in the error message.
KNOWN_DISTRIBUTIONS: Mapping[str, str] = {"cqg": "ec-cqg", "mock": "ec-mock"}
#: ``ec`` commands that ec's own distributions add, by the distribution to install for them.
KNOWN_COMMANDS: Mapping[str, str] = {"demo": "ec-mock", "mock": "ec-mock"}


@final
class PluginHost:
    """Owns the plugin manager; loads built-ins and entry points; calls hooks, typed."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._pm = CountingManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._records: dict[str, PluginRecord] = {}
        self._vendors: VendorRegistry | None = None
        self._validators: ValidatorRegistry | None = None
        self.observer_errors: Counter[str] = Counter()
        self._observers = Observers(self._pm, self.observer_errors)
        # The observers of the per-order notices, resolved on every registration change
        # (not looked up per notice): with none, a notice is one call that does nothing.
        self._order_observers: tuple[pluggy.HookImpl, ...] = ()
        self._fill_observers: tuple[pluggy.HookImpl, ...] = ()
        self._position_observers: tuple[pluggy.HookImpl, ...] = ()
        self._pm.listeners.append(self._resolve_notices)
        self._resolve_notices()
        self._registering: list[str] = []  # plugins whose registration is under way
        self._pm.hook.ec_addhooks.call_historic(kwargs={"host": self})

    # -- loading ---------------------------------------------------------------

    @classmethod
    def load(
        cls, *, strict: bool = False, entry_points_enabled: bool = True, builtins: bool = True
    ) -> PluginHost:
        """A host with the built-in plugins and every installed ``ec.plugins`` entry point.

        The registration hooks run here too, so a plugin whose ``ec_register_*`` hook
        raises is reported (or, with ``strict``, raises) at load like any other fault.
        """
        host = cls(strict=strict)
        if builtins:
            host.load_builtins()
        if entry_points_enabled:
            host.load_entry_points(entry_points(group=ENTRY_POINT_GROUP))
        host.check_pending()
        host.vendors()
        host.validators()
        return host

    def load_builtins(self) -> None:
        import importlib

        from ec_core import __version__

        for module_name in BUILTIN_PLUGINS:
            module = importlib.import_module(module_name)
            self.register(
                module,
                name=module_name,
                distribution="ec-core",
                version=__version__,
                builtin=True,
            )

    def load_entry_points(self, eps: Iterable[EntryPoint]) -> None:
        """Load and register each entry point in its own ``try``: one bad plugin stops nothing."""
        for ep in eps:
            dist = ep.dist.name if ep.dist is not None else "?"
            version = ep.dist.version if ep.dist is not None else "?"
            existing = self._records.get(ep.name)
            if existing is not None and existing.distribution == dist:
                continue  # already loaded (load_entry_points called twice)
            try:
                module = ep.load()
            except Exception as exc:
                self._fail(ep.name, dist, version, f"import of {ep.value} failed: {exc!r}", exc)
                continue
            self.register(module, name=ep.name, distribution=dist, version=version)

    def register(
        self,
        plugin: object,
        *,
        name: str,
        distribution: str = "?",
        version: str = "?",
        builtin: bool = False,
    ) -> bool:
        """Register one plugin object or module; on any fault record it as failed.

        Returns True if it is registered. With ``strict`` a fault raises :class:`PluginError`.
        Nothing of a failed plugin stays registered, and a failure never disturbs a
        plugin registered before it (a clash of names is recorded under
        ``name[distribution]``).
        """
        clash = self._clash(plugin, name)
        if clash:
            key = name if name not in self._records else f"{name}[{distribution}]"
            self._fail(key, distribution, version, clash, PluginError(clash, plugin=name))
            return False
        parent = self._registering[-1] if self._registering else ""
        self._registering.append(name)  # ``ec_addhooks`` runs inside pluggy's register
        try:
            reject_async_hooks(plugin, self._pm)
            self._pm.register(plugin, name=name)
        except Exception as exc:
            if self._pm.get_plugin(name) is plugin:  # pluggy does not roll back on its own
                self._pm.unregister(plugin)
            self._fail(name, distribution, version, describe(exc), exc)
            return False
        finally:
            self._registering.pop()
        warnings = unmarked_hooks(plugin, self._pm)
        if not builtin:  # core's own defaults are the innermost parts, not replacements
            replacing = replacing_part_hooks(plugin, self._pm)
            for warning in replacing:
                warn_deprecated(f"plugin {name!r}: {warning}")
            warnings += replacing
        for warning in warnings:
            log.warning("plugin %s (%s): %s", name, distribution, warning)
        self._records[name] = PluginRecord(
            name=name,
            distribution=distribution,
            version=version,
            status=PluginStatus.LOADED,
            hooks=self._hook_names(plugin),
            builtin=builtin,
            warnings=warnings,
            parent=parent,
        )
        self._vendors = None
        self._validators = None
        return True

    def _clash(self, plugin: object, name: str) -> str:
        if self._pm.is_registered(plugin):
            return f"already registered as {self._pm.get_name(plugin)!r}"
        if self._pm.get_plugin(name) is not None:
            owner = self._records.get(name)
            by = f" by {owner.distribution}" if owner else ""
            return f"plugin name {name!r} is already taken{by}"
        return ""

    def unregister(self, name: str) -> None:
        plugin = self._pm.get_plugin(name)
        if plugin is not None:
            self._pm.unregister(plugin)
        self._records.pop(name, None)
        self._vendors = None
        self._validators = None

    def check_pending(self) -> None:
        """Fail every plugin that implements a hook no spec declares (e.g. a misspelt name)."""
        for name, plugin in list(self._pm.list_name_plugin()):
            if plugin is None:
                continue
            unknown = [
                caller.name
                for caller in self._pm.get_hookcallers(plugin) or ()
                if caller.spec is None
                and not all(
                    impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin
                )
            ]
            if unknown:
                record = self._records.get(name)
                self._pm.unregister(plugin)
                message = f"implements unknown hook(s): {', '.join(sorted(unknown))}"
                self._fail(
                    name,
                    record.distribution if record else "?",
                    record.version if record else "?",
                    message,
                    PluginError(message, plugin=name),
                )

    def add_hookspecs(self, module_or_class: ModuleType | type) -> None:
        """Declare more hooks (from a plugin's ``ec_addhooks``)."""
        self._pm.add_hookspecs(module_or_class)

    def plugin_hookspecs(self) -> dict[str, Callable[..., object]]:
        """Hooks that plugins declared (``ec_addhooks``), by name: their spec functions.
        The hook reference documents them beside core's own (a test holds it to them)."""
        found = {
            name: caller.spec.function
            for name, caller in vars(self._pm.hook).items()
            if getattr(caller, "spec", None) is not None and caller.spec.namespace is not hookspecs
        }
        return dict(sorted(found.items()))

    @property
    def records(self) -> list[PluginRecord]:
        return sorted(self._records.values(), key=lambda r: (not r.builtin, r.name))

    @property
    def pluggy_manager(self) -> pluggy.PluginManager:
        """The underlying manager, for plugins that define their own hooks."""
        return self._pm

    def _drop_children(self, parent: str) -> None:
        """Unregister what ``parent`` registered from its ``ec_addhooks`` (and theirs)."""
        for child in [r.name for r in self._records.values() if r.parent == parent]:
            self._drop_children(child)
            self.unregister(child)

    def _hook_names(self, plugin: object) -> tuple[str, ...]:
        return tuple(sorted(c.name for c in self._pm.get_hookcallers(plugin) or ()))

    def _fail(self, name: str, dist: str, version: str, message: str, exc: BaseException) -> None:
        log.error("plugin %s (%s %s) failed: %s", name, dist, version, message)
        self._drop_children(name)
        self._records[name] = PluginRecord(
            name=name, distribution=dist, version=version, status=PluginStatus.FAILED, error=message
        )
        if self.strict:
            raise PluginError(
                f"plugin {name!r} from {dist} {version} failed: {message}", plugin=name
            ) from exc

    # -- connect ---------------------------------------------------------------

    def vendors(self) -> VendorRegistry:
        """Every registered vendor (the hook is called once, then cached).

        Each plugin's hook runs on its own: one that raises (or claims a vendor name
        already taken) is failed and unregistered, and the vendors it added are removed.
        """
        if self._vendors is None:
            registry = VendorRegistry()

            def undo(before: set[str]) -> None:
                for key in registry.keys() - before:
                    registry.remove(key)

            self._call_each(
                "ec_register_vendors", {"vendors": registry}, snapshot=registry.keys, undo=undo
            )
            self._vendors = registry
        return self._vendors

    def open_session(
        self, vendor: str, settings: Mapping[str, Any] | None = None
    ) -> AbstractAsyncContextManager[Session]:
        """The session context manager for ``vendor`` (a name or ``"dist:name"``).

        Its state changes reach every ``ec_on_session_state`` observer: the factory
        gets the host's listener (``factory.open(settings, on_state=...)``).

        Raises :class:`VendorNotFoundError`, or :class:`AmbiguousVendorError` when several
        distributions register the bare name.
        """
        factory = self.vendor_factory(vendor)
        name = factory.info.name if factory else vendor
        notify = self.notify_session_state
        result: AbstractAsyncContextManager[Session] | None = self._pm.hook.ec_open_session(
            vendor=name,
            settings=dict(settings or {}),
            factory=factory,
            on_state=lambda old, new: notify(name, old, new),
        )
        if result is None:
            raise self._not_found(vendor)
        return result

    def require_vendor(self, vendor: str) -> None:
        """Raise :class:`VendorNotFoundError` unless ``vendor`` is installed (checked first,
        so a command names a misspelt vendor before anything that depends on it)."""
        if self.vendor_factory(vendor) is None:
            raise self._not_found(vendor)

    def vendor_factory(self, vendor: str) -> VendorFactory | None:
        """The factory for a name or ``"dist:name"``; an ambiguous bare name raises
        :class:`AmbiguousVendorError` naming every distribution that registers it."""
        registry = self.vendors()
        claimants = registry.conflicts().get(vendor)
        if claimants:
            raise AmbiguousVendorError(vendor, distributions=claimants)
        return registry.get(vendor)

    def _not_found(self, vendor: str) -> VendorNotFoundError:
        """The error for a missing vendor, with how to install it or why its plugin failed."""
        registry = self.vendors()
        distribution = KNOWN_DISTRIBUTIONS.get(vendor)
        hint = f"install it with `pip install {distribution}`" if distribution else None
        broken = [
            r
            for r in self._records.values()
            if r.status is PluginStatus.FAILED
            and (r.name == vendor or (distribution is not None and r.distribution == distribution))
        ]
        if broken:
            hint = "; ".join(
                f"plugin {r.name!r} of {r.distribution} failed to load: {r.error}" for r in broken
            )
        return VendorNotFoundError(vendor, installed=registry.names(), hint=hint)

    # -- order / monitor -------------------------------------------------------

    def parts(self, session: Session) -> SessionParts:
        """The session's gateway, feed and monitor with every plugin's wrappers applied,
        and the venue's queries: the one way to reach a session's parts
        (:mod:`ec_core.plugins.parts`)."""
        return SessionParts(
            session,
            orders=self.order_gateway(session),
            market_data=self.market_data(session),
            trades=self.trade_monitor(session),
        )

    def order_gateway(self, session: Session) -> OrderGateway:
        gateway: OrderGateway = self._pm.hook.ec_order_gateway(session=session)
        return gateway

    def market_data(self, session: Session) -> MarketDataFeed:
        feed: MarketDataFeed = self._pm.hook.ec_market_data(session=session)
        return feed

    def trade_monitor(self, session: Session) -> TradeMonitor:
        monitor: TradeMonitor = self._pm.hook.ec_trade_monitor(session=session)
        return monitor

    # -- validation ------------------------------------------------------------

    def validators(self) -> ValidatorRegistry:
        """Every registered validator (the hook is called once, then cached)."""
        if self._validators is None:
            registry = ValidatorRegistry()

            def undo(before: set[str]) -> None:
                for name in set(registry.names()) - before:
                    registry.remove(name)

            self._call_each(
                "ec_register_validators",
                {"validators": registry},
                snapshot=lambda: set(registry.names()),
                undo=undo,
            )
            self._validators = registry
        return self._validators

    # -- commands --------------------------------------------------------------

    def add_commands(self, cli: Any) -> None:
        """Let plugins add sub-commands; a plugin whose hook raises is failed, not fatal."""

        def undo(before: set[str]) -> None:
            for name in set(cli.commands) - before:
                del cli.commands[name]

        self._call_each(
            "ec_add_commands", {"cli": cli}, snapshot=lambda: set(cli.commands), undo=undo
        )

    def call_registration_hook(
        self,
        hook_name: str,
        *,
        argname: str,
        registry: Any,
        keys: Callable[[], set[str]],
        remove: Callable[[str], None],
    ) -> None:
        """Call a registration hook a plugin declared (``ec_addhooks``), isolated as core's.

        Each implementation runs on its own; one that raises has what it added undone
        (``keys`` before and after, ``remove`` each new one) and its plugin is failed.
        A hook nobody declared is a no-op.
        """
        if not hasattr(self._pm.hook, hook_name):
            return

        def undo(before: set[str]) -> None:
            for key in keys() - before:
                remove(key)

        self._call_each(hook_name, {argname: registry}, snapshot=keys, undo=undo)

    def _call_each(
        self,
        hook_name: str,
        kwargs: Mapping[str, Any],
        *,
        snapshot: Callable[[], set[str]],
        undo: Callable[[set[str]], None],
    ) -> None:
        """Call each implementation of a registration hook in pluggy's order, isolated.

        A plugin whose implementation raises has what it added undone (``undo`` gets the
        ``snapshot`` taken before its call), is unregistered and recorded as failed.
        """
        caller = getattr(self._pm.hook, hook_name)
        for impl in reversed(list(caller.get_hookimpls())):
            if impl.hookwrapper or impl.wrapper:
                continue
            before = snapshot()
            try:
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                undo(before)
                record = self._records.get(impl.plugin_name)
                self._pm.unregister(impl.plugin)
                self._fail(
                    impl.plugin_name,
                    record.distribution if record else "?",
                    record.version if record else "?",
                    f"hook {hook_name} raised {exc!r}",
                    exc,
                )

    # -- observers: isolated, never raise into the trading path ---------------
    # Per-order notices ask the resolved observers first (see ec_core.plugins.observers):
    # with none, nothing else runs.

    def notify_session_state(self, vendor: str, old: SessionState, new: SessionState) -> None:
        self._notify("ec_on_session_state", vendor=vendor, old=old, new=new)

    def _resolve_notices(self) -> None:
        of = self._observers.of
        self._order_observers = of("ec_on_order")
        self._fill_observers = of("ec_on_fill")
        self._position_observers = of("ec_on_position")

    def notify_order(self, order: Order, previous: Order | None) -> None:
        impls = self._order_observers
        if impls:
            self._observers.call("ec_on_order", impls, {"order": order, "previous": previous})

    def notify_fill(self, fill: Fill) -> None:
        impls = self._fill_observers
        if impls:
            self._observers.call("ec_on_fill", impls, {"fill": fill})

    def notify_position(self, position: Position) -> None:
        impls = self._position_observers
        if impls:
            self._observers.call("ec_on_position", impls, {"position": position})

    def notify_fill_anomaly(self, anomaly: FillAnomaly) -> None:
        self._notify("ec_on_fill_anomaly", anomaly=anomaly)

    def notify_denied(self, request: OrderRequest, violations: Sequence[Violation]) -> None:
        self._notify("ec_on_denied", request=request, violations=violations)

    def has_observers(self, hook_name: str) -> bool:
        """Cheap test used on hot paths to skip building arguments nobody reads."""
        return bool(self._observers.of(hook_name))

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        impls = self._observers.of(hook_name)
        if impls:
            self._observers.call(hook_name, impls, kwargs)
