"""``ec run STRATEGY [--vendor NAME]``: run a strategy live (or on paper) until stopped.

The session comes from the plugin host; orders go through the core executor; the
account's events feed the tracker. The settings file's safety stack is used:

* ``limits_file``: :class:`~ec_core.safety.PreTradeChecks` (the limits, default
  deny, hot reload; the kill switch beside the file, which ``ec kill-switch``
  flips; rate limits) in front of every registered validator. Without it only the
  host's validators check orders, and the run says so.
* ``journal_path``: every intent, send and answer is journaled; at start the
  tracker is rebuilt from it and the strategies' client order ids skip the ones
  it holds.

At start the run reconciles with the venue (the venue wins) and prints, right
after its first line, which safety is active and what recovery and
reconciliation found. Every isolated error, a denied order included, is printed
with its codes. On a terminal a live view shows ticks, signals, orders, the
position and errors. Ctrl-C or SIGTERM stops it cleanly: every live signal is
cancelled and, unless ``--leave-working``, its working orders too; the process
then exits 0 with a summary line.

The first line on stdout (``ec run: running ...``) says the run is trading, so
a supervisor or a test can wait for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click
import msgspec
from rich.console import Console
from rich.live import Live

from ec_core.cli.account_option import check_accounts
from ec_core.cli.failure import EXIT_STRATEGY_FAILED, fail
from ec_core.cli.run_view import (
    instrument_lines,
    live_logging,
    market_time,
    open_at_stop,
    run_stop,
    stop_order_lines,
    view,
)
from ec_core.clock import Clock
from ec_core.errors import EcError
from ec_core.model import MarketEvent
from ec_core.plugins import PluginHost
from ec_core.settings import Settings, load_settings
from ec_core.vendor import TakesSeed

if TYPE_CHECKING:
    from ec_core.execution import PreTradeGate
    from ec_core.journal import Journal
    from ec_core.strategy.engine import ErrorReport
    from ec_core.strategy.loader import StrategyPlan
    from ec_core.strategy.rig import TradingRig

__all__ = ["run_command"]


class _VendorOption(click.Option):
    """``--vendor``, whose help lists the vendors installed here (read when help is shown)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        host = ctx.find_object(PluginHost)
        names = ", ".join(host.vendors().names()) if host is not None else ""
        self.help = (
            f"Vendor plugin to trade through (installed: {names or 'none'});"
            " default: the settings file's vendor, else mock."
        )
        return super().get_help_record(ctx)


@click.command("run")
@click.argument("strategy")
@click.option("--vendor", cls=_VendorOption, default=None)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (TOML; default: $EC_SETTINGS, else built-in defaults).",
)
@click.option(
    "--account",
    "account_id",
    default=None,
    callback=check_accounts,
    help="Account to trade; default: the settings file's account_id, else the vendor"
    " table's account_id (the mock: MOCK-1).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of a simulated venue's market (a vendor that takes one, such as mock;"
    " default: its table's seed).",
)
@click.option(
    "--warmup",
    default=None,
    help="Bars of history per timeframe to warm the feeds with before live ticks, e.g."
    " '1m=120,5m=50' (default: 100 of each when the vendor serves history; 'none': off).",
)
@click.option(
    "--leave-working",
    is_flag=True,
    help="On stop, leave working orders at the venue (default: cancel them).",
)
@click.option(
    "--gateway",
    "gateway_url",
    default=None,
    metavar="redis://HOST:PORT/DB",
    help="Trade through `ec gateway` at this Redis (rediss:// for TLS; ?namespace=NAME if"
    " not ec): the gateway owns the session, limits and journal (docs/guides/scale-out.md).",
)
@click.option(
    "--worker",
    default=None,
    help="With --gateway: this process' worker name, as the gateway's config allows it"
    " (default: $EC_WORKER, else host-pid).",
)
@click.option(
    "--accept-journal-loss",
    is_flag=True,
    help="Trade on a journal that lost or changed records (after reconciling with the"
    " venue): the loss is logged and accepted once.",
)
@click.pass_obj
def run_command(
    host: PluginHost,
    strategy: str,
    vendor: str | None,
    config: Path | None,
    account_id: str | None,
    seed: int | None,
    warmup: str | None,
    leave_working: bool,
    gateway_url: str | None,
    worker: str | None,
    accept_journal_loss: bool,
) -> None:
    """Run STRATEGY live until Ctrl-C or SIGTERM.

    STRATEGY is file.py:factory or module:factory. The safety stack comes from the
    --config settings file: limits_file (limits, kill switch, rate limits) and
    journal_path (journal and recovery); without them the run says what is missing.
    """
    # the strategy stack is imported when the command runs, not when `ec` starts
    from ec_core.strategy.loader import RunInfo, load_plan

    try:
        settings = load_settings(config) if config is not None else load_settings()
        name = vendor or settings.vendor
        host.require_vendor(name)  # a misspelt vendor is the first thing said
        factory = host.vendor_factory(name)
        vendor_settings: dict[str, Any] = settings.vendor_settings(name)
        if seed is not None:
            seeder: object = factory  # mypy cannot narrow a VendorFactory to it
            if not isinstance(seeder, TakesSeed):
                raise click.UsageError(
                    f"--seed: vendor {name!r} takes no seed (only a seeded simulator's"
                    " factory does, such as mock's); drop --seed"
                )
            vendor_settings = seeder.with_seed(vendor_settings, seed)
        from ec_core.front import account_of

        account, vendor_settings = account_of(factory, settings, vendor_settings, account_id)
        if not account:
            raise click.UsageError("no account: pass --account or set account_id in the settings")
        if settings.limits_file:
            from ec_core.safety import load_limits

            load_limits(settings.limits_file)  # a bad file stops the run before it connects
        lookback: dict[str, int] | None = {}  # on, with the default bars of each timeframe
        if warmup == "none":
            lookback = None
        elif warmup:
            from ec_core.data.warmup import parse_lookback

            lookback = parse_lookback(warmup)
        plan = load_plan(strategy, RunInfo(account_id=account, vendor=name, mode="run"))
        if gateway_url is not None:
            from ec_core.cli.run_remote import run_remote

            summary, failed = anyio.run(
                lambda: run_remote(
                    plan,
                    gateway_url,
                    account=account,
                    worker=worker,
                    cancel_working=not leave_working,
                    label=strategy,
                    on_error=_print_error,
                )
            )
            click.echo(summary)
            if failed:
                raise SystemExit(EXIT_STRATEGY_FAILED)
            return
        console = Console(highlight=False)
        summary, failed = anyio.run(
            lambda: _run(
                host,
                plan,
                msgspec.structs.replace(settings, vendor=name),
                vendor_settings,
                account=account,
                cancel_working=not leave_working,
                console=console,
                label=strategy,
                accept_journal_loss=accept_journal_loss,
                warmup=lookback,
            )
        )
    except EcError as exc:
        raise fail(exc) from exc
    click.echo(summary)
    if failed:
        raise SystemExit(EXIT_STRATEGY_FAILED)


async def _run(
    host: PluginHost,
    plan: StrategyPlan,
    settings: Settings,
    vendor_settings: dict[str, Any],
    *,
    account: str,
    cancel_working: bool,
    console: Console,
    label: str,
    accept_journal_loss: bool,
    warmup: dict[str, int] | None = None,
) -> tuple[str, bool]:
    from ec_core.front import open_venue
    from ec_core.strategy.rig import trading_rig

    stop = run_stop()
    vendor, limits_file = settings.vendor, settings.limits_file
    async with open_venue(
        host, settings, vendor_settings, accept_journal_loss=accept_journal_loss
    ) as venue:
        session, clock, checks, journal = venue.session, venue.clock, venue.checks, venue.journal
        async with trading_rig(
            host,
            session,
            plan,
            account_id=account,
            clock=clock,
            engine_clock=None,
            on_error=_print_error,
            checks=checks,
            journal=journal,
            reconcile=True,
        ) as rig:
            feed = host.market_data(session)
            async with (
                feed.stream(list(rig.instruments.values())) as events,
                anyio.create_task_group() as tg,
            ):
                await tg.start(stop.watch, tg.cancel_scope)
                click.echo(
                    f"ec run: running {label} on {vendor} (account {account},"
                    f" {', '.join(rig.instruments)}); Ctrl-C to stop"
                )
                for line in _safety_lines(host, rig, checks, limits_file, journal):
                    click.echo(f"ec run: {line}")
                live: AsyncIterable[MarketEvent] = events
                if warmup is not None:
                    live = await _warm_up(host, vendor, session, rig, events, clock, warmup)
                if console.is_terminal:
                    with (
                        Live(view(rig, label), console=console, refresh_per_second=4) as live_view,
                        live_logging(live_view.console),
                    ):
                        tg.start_soon(_refresh, live_view, rig, label)
                        await rig.engine.run(live)
                else:
                    await rig.engine.run(live)
                tg.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                live_signals = len(rig.engine.signals)
                await rig.engine.shutdown(cancel_working=cancel_working, reason=stop.reason)
                await anyio.lowlevel.checkpoint()
                while rig.backlog():
                    await anyio.lowlevel.checkpoint()
                working, unknown = open_at_stop(rig.tracker.open_orders(account))
    action = "cancelled" if cancel_working else "left"
    engine = rig.engine
    disabled = "".join(f"; {name} disabled: {why}" for name, why in engine.disabled.items())
    details = [
        f"ec run: market time {market_time(engine.clock.now_ns())}",
        *(f"ec run: {line}" for line in instrument_lines(rig)),
        *(f"ec run: {line}" for line in stop_order_lines(rig)),
    ]
    summary = (
        f"ec run: {stop.reason}; {engine.events} ticks, {_produced(rig)} signals"
        f" ({live_signals} live at stop, their working orders {action}),"
        f" {engine.outcomes.snapshot().describe()}, {rig.tracker.stats().fills} fills,"
        f" {working} orders working, {unknown} orders UNKNOWN,"
        f" {sum(e.count for e in engine.errors)} errors{disabled}"
    )
    return "\n".join([summary, *details]), engine.failed


async def _warm_up(
    host: PluginHost,
    vendor: str,
    session: object,
    rig: TradingRig,
    events: AsyncIterable[MarketEvent],
    clock: Clock,
    lookback: dict[str, int],
) -> AsyncIterable[MarketEvent]:
    """Warm the feeds from history when the vendor serves it; the live stream joins at the
    seam. A refusal is said and the run goes on cold."""
    from ec_core.data.warmup import seamed, warm_up
    from ec_core.errors import HistoryError
    from ec_core.front import venue_now_ns
    from ec_core.history import SupportsHistory
    from ec_core.vendor import Capability

    factory = host.vendors().get(vendor)
    declared = factory is not None and Capability.HISTORY in factory.info.capabilities
    if not declared or not isinstance(session, SupportsHistory):
        click.echo(f"ec run: no warm-up ({vendor} serves no history): bars start live")
        return events
    try:
        now_ns = venue_now_ns(session, clock)  # a venue behind the wall has no later minute
        report = await warm_up(rig.engine.feeds, session.history, now_ns=now_ns, lookback=lookback)
    except HistoryError as exc:
        click.echo(f"ec run: warm-up skipped: {exc}; bars start live")
        return events
    click.echo(f"ec run: warmed up from history ({report.describe()})")
    return seamed(events, report.seams, report.since_ns)


def _safety_lines(
    host: PluginHost,
    rig: TradingRig,
    checks: PreTradeGate | None,
    limits_file: str | None,
    journal: Journal | None,
) -> list[str]:
    """What guards this run, said once at start (limits, kill switch, journal, venue)."""
    from ec_core.safety import PreTradeChecks

    validators = len(host.validators())
    if isinstance(checks, PreTradeChecks):
        switch = checks.kill_switch
        reason = f" ({switch.reason})" if switch.reason else ""
        lines = [
            f"safety: limits {limits_file} (default deny, hot reload), kill switch"
            f" {switch.state.meaning}{reason} ({switch.path}), rate limits per account,"
            f" {validators} validators"
        ]
    else:
        lines = [
            f"safety: no limits_file: only the host's {validators} validators check orders"
            " (no kill switch, no rate limits, no allowed-instrument list)"
        ]
    recovery = rig.recovery
    if journal is None:
        lines.append("journal: none (set journal_path to journal orders and recover them)")
    elif recovery is not None:
        lines.append(
            f"journal {journal.path}: recovered {recovery.records} records,"
            f" {recovery.orders} orders ({len(recovery.open_orders)} open,"
            f" {len(recovery.marked_unknown)} unknown)"
        )
    reconciled = rig.reconciled
    if reconciled is not None:
        checked = (
            f"{reconciled.orders_checked} orders, {reconciled.positions_checked} positions checked"
        )
        if reconciled.clean:
            lines.append(f"reconciled with the venue: clean ({checked})")
        else:
            found = ", ".join(
                f"{d.kind.value} {d.key} (ours {d.ours}, venue {d.venue})"
                for d in reconciled.differences
            )
            lines.append(
                f"reconciled with the venue ({checked}): {len(reconciled.differences)}"
                f" difference(s): {found or '-'};"
                f" still unknown: {', '.join(reconciled.still_unknown) or 'none'};"
                f" voided (the venue does not have them, no fills):"
                f" {', '.join(reconciled.voided) or 'none'}"
            )
    return lines


def _print_error(report: ErrorReport) -> None:
    """Every isolated error on stdout: a denial names its codes and values."""
    denied = report.error_type == "OrderDeniedError"
    what = "order denied, nothing sent," if denied else f"{report.where} error"
    at = f" at {report.at}" if report.at else ""
    click.echo(
        f"ec run: {what} in {report.strategy}{at} (signal {report.signal_id or '-'}):"
        f" {report.error} (shown once; repeats are counted)"
    )


def _produced(rig: TradingRig) -> int:
    return sum(s.produced for s in rig.engine.strategies)


async def _refresh(live: Live, rig: TradingRig, label: str) -> None:
    while True:
        await anyio.sleep(0.25)
        live.update(view(rig, label))
