"""Hook specifications: the public plugin API of ec.

Rules every hook follows (enforced by the loader):

* Hooks are **synchronous and cheap**. They register or return objects whose
  methods are async. An ``async def`` hook implementation is rejected at load.
* Per-tick and per-order traffic never goes through a hook: it flows through the
  async iterators of :mod:`ec_core.vendor`. Observer hooks (``ec_on_*``) are for
  low-rate events; an exception raised in one is logged and counted, never
  propagated into the trading path.
* ``firstresult`` hooks stop at the first implementation that returns something
  other than ``None``; core's own defaults are ``trylast``, so any plugin can
  take precedence.

The four concerns are *connect* (vendors and sessions), *order* (order entry),
*monitor* (market data, trade monitoring and observers) and *validation*.

Stability: these specs are ec's public plugin API. A hook's name and arguments change
only with a major version of ec-core; a new argument may be added in a minor version
(pluggy passes an implementation only the arguments it names, so old plugins keep
working); a hook to be removed is deprecated for a minor version first, with a warning.
Observers marked *runs synchronously inside the order path* are called by the order
tracker while it applies a venue report: they delay that order's processing by their
own run time, so they must return at once (hand work to a task or a queue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from ec_core.plugins.markers import hookspec

if TYPE_CHECKING:
    import click

    from ec_core.errors import Violation
    from ec_core.model import Fill, Order, OrderRequest, Position, SessionState
    from ec_core.plugins.host import PluginHost
    from ec_core.plugins.registry import VendorRegistry
    from ec_core.tracking import FillAnomaly
    from ec_core.validation import ValidatorRegistry
    from ec_core.vendor import (
        MarketDataFeed,
        OrderGateway,
        Session,
        TradeMonitor,
        VendorFactory,
    )


# -- host ---------------------------------------------------------------------


@hookspec(historic=True)
def ec_addhooks(host: PluginHost) -> None:
    """Add hook specifications of a plugin's own (``host.add_hookspecs(module)``).

    Called once per plugin when it is registered (historic: late plugins get it
    too). ec-mock uses it to define its ``ec_mock_add_dialects`` hook. If the plugin
    then fails to load, what it added here is removed with it.

    :param host: the plugin host; call ``host.add_hookspecs(module)`` on it.
    """


@hookspec
def ec_add_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``ec`` command line (e.g. ec-mock adds ``ec mock``).

    Called once when the command line starts, before arguments are parsed.

    :param cli: the ``ec`` click group; call ``cli.add_command(command)``.
    """


# -- connect ------------------------------------------------------------------


@hookspec
def ec_register_vendors(vendors: VendorRegistry) -> None:
    """Announce vendors: call ``vendors.add(factory)`` for each :class:`VendorFactory`.

    Called once when the host loads plugins. The factory's ``info`` gives name,
    version, distribution and capabilities, shown by ``ec plugins``, and what core
    must know of the venue, never found from its name: ``paper`` (a simulator, may
    trade without a limits file) and ``default_account``. A simulator's factory may
    also offer ``OpensAccounts`` and ``TakesSeed`` (:mod:`ec_core.vendor`). Must not
    connect or import heavy dependencies: do that in ``factory.open``.

    :param vendors: the registry; ``vendors.add(factory)`` announces one vendor (a
        name another distribution also registers is a conflict ``ec plugins`` shows).
    """


@hookspec(firstresult=True)
def ec_open_session(
    vendor: str,
    settings: Mapping[str, Any],
    factory: VendorFactory | None,
    on_state: Callable[[SessionState, SessionState], None],
) -> AbstractAsyncContextManager[Session] | None:
    """Build the session context manager for ``vendor`` from its ``settings``.

    ``factory`` is the registered factory for that name, or ``None``. ``on_state``
    is the host's listener for the session's state changes (it calls every
    ``ec_on_session_state`` observer). Core's default (``trylast``) returns
    ``factory.open(settings, on_state=on_state)`` (an old factory without the
    parameter: ``factory.open(settings)``, a DeprecationWarning, and core reports its
    opening and closing). A plugin may return its own context manager first, e.g.
    to wrap the session in a recorder; pass ``on_state`` on so observers still hear.
    Return ``None`` to leave it to the next implementation.

    firstresult: the first implementation that returns something other than ``None``
    decides; later ones are not called.

    :param vendor: the vendor name asked for (a ``"dist:name"`` selection as given).
    :param settings: the vendor's settings table, secrets resolved (``Secret`` values).
    :param factory: the registered factory for ``vendor``, or ``None`` if none is.
    :param on_state: the host's listener, ``on_state(old, new)``, for every state change.
    """


# -- order --------------------------------------------------------------------


@hookspec(firstresult=True)
def ec_order_gateway(session: Session) -> OrderGateway | None:
    """The order gateway to use for ``session`` (``host.parts(session).orders``).

    Core's default (``trylast``) returns ``session.orders``. A plugin wraps it (paper
    trading, throttling, a drop copy) with a *wrapper*, which composes with every other
    plugin's: ``@hookimpl(wrapper=True)``, ``gateway = yield``, return the wrapped
    gateway (checking ``session.vendor`` if it wraps one vendor's only). A plain
    implementation returning a gateway of its own hides the others' wrappers and is
    deprecated (a DeprecationWarning at registration). Called once per session; the
    gateway's methods are then called directly, not through pluggy.

    firstresult: the first implementation that returns something other than ``None``
    decides; wrappers see and may replace that result.

    :param session: the open session whose gateway is asked for (``session.vendor``).
    """


# -- monitor ------------------------------------------------------------------


@hookspec(firstresult=True)
def ec_market_data(session: Session) -> MarketDataFeed | None:
    """The market-data feed to use for ``session``; default ``session.market_data``.

    Wrap it as ``ec_order_gateway`` says (``@hookimpl(wrapper=True)``). Called once per
    session. firstresult: the first implementation that returns something other than
    ``None`` decides; wrappers see and may replace that result.

    :param session: the open session whose feed is asked for.
    """


@hookspec(firstresult=True)
def ec_trade_monitor(session: Session) -> TradeMonitor | None:
    """The trade monitor to use for ``session``; default ``session.trades``.

    Wrap it as ``ec_order_gateway`` says (``@hookimpl(wrapper=True)``). Called once per
    session. firstresult: the first implementation that returns something other than
    ``None`` decides; wrappers see and may replace that result.

    :param session: the open session whose trade monitor is asked for.
    """


@hookspec
def ec_on_session_state(vendor: str, old: SessionState, new: SessionState) -> None:
    """Observer: a session changed state. Must not block or raise.

    Called for every vendor (the host hands its listener to each factory), from the
    session's own task when the state changes.

    :param vendor: the session's vendor name.
    :param old: the state before.
    :param new: the state now (e.g. ``DISCONNECTED``, ``RECONNECTING``, ``READY``).
    """


@hookspec
def ec_on_order(order: Order, previous: Order | None) -> None:
    """Observer: the tracker changed an order (``previous`` is ``None`` for a new one).

    Runs synchronously inside the order path: keep it to a few microseconds.

    :param order: the order as it is now.
    :param previous: the order before this change, ``None`` for a new order.
    """


@hookspec
def ec_on_fill(fill: Fill) -> None:
    """Observer: the tracker accepted a new fill (duplicates are not reported).

    Runs synchronously inside the order path: keep it to a few microseconds.

    :param fill: the fill (prices in ticks and as ``Decimal``; ``fill_id`` is unique).
    """


@hookspec
def ec_on_position(position: Position) -> None:
    """Observer: a position changed because of a fill or a venue report.

    Runs synchronously inside the order path: keep it to a few microseconds.

    :param position: the account's position in one symbol, as it is now.
    """


@hookspec
def ec_on_fill_anomaly(anomaly: FillAnomaly) -> None:
    """Observer: the tracker booked an impossible fill (an overfill, or a fill on an
    order already final). It is booked all the same; this says so loudly.

    Runs synchronously inside the order path.

    :param anomaly: what was impossible, with the order and the fill involved.
    """


@hookspec
def ec_on_denied(request: OrderRequest, violations: Sequence[Violation]) -> None:
    """Observer: pre-trade checks denied ``request``; nothing was sent.

    Runs synchronously inside the order path, before ``execute`` raises
    :class:`~ec_core.errors.OrderDeniedError` to its caller.

    :param request: the request that was denied.
    :param violations: every rule it broke (``code``, ``field``, ``rule``), at least one.
    """


# -- validation ---------------------------------------------------------------


@hookspec
def ec_register_validators(validators: ValidatorRegistry) -> None:
    """Add pre-trade validators: ``validators.add(validator)``, or
    ``validators.add(validator, vendor="acme")`` for rules of one vendor.

    Called once when the host loads plugins. Every registered validator runs on
    every request bound for its scope (all vendors, or the one it was added for);
    all violations are collected and raised together. A vendor's rules check only
    what core's do not (core names a missing price; the vendor rule need not).
    Core's built-in rules register through this same hook. Validators themselves run
    synchronously inside the order path, once per request: keep them cheap.

    :param validators: the registry; ``validators.add(validator, vendor=None)``.
    """
