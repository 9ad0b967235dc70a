"""``ec orders list`` / ``ec orders void ID``: the journal's open orders, and the operator's void.

Both read the journal of the settings file (``journal_path``, or ``--journal``)
without connecting to a venue: ``list`` shows every order a restart would take
back as open (what counts against the limits), ``void`` closes one the venue does
not have (an order with fills that reconciliation left alone, a venue that cannot
answer) as VOIDED, journaled with the operator's reason. Run them while no
``ec run`` is using the journal: a running process would not see the void.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec

from ec_core.clock import WallClock
from ec_core.errors import EcError
from ec_core.settings import load_settings

if TYPE_CHECKING:
    from ec_core.journal import Journal
    from ec_core.tracking import OrderTracker

__all__ = ["orders_command"]


def _journal_path(journal: Path | None, config: Path | None) -> Path:
    if journal is not None:
        return journal
    try:
        settings = load_settings(config) if config is not None else load_settings()
    except EcError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.journal_path:
        raise click.UsageError(
            "no journal: pass --journal PATH, or set journal_path in the settings (--config)"
        )
    return Path(settings.journal_path)  # as ec run opens it: relative to the working dir


@contextmanager
def _replayed(path: Path) -> Iterator[tuple[Journal, OrderTracker]]:
    """The open journal at ``path`` and a tracker rebuilt from it, as a restart sees it;
    an :class:`EcError` inside becomes the command's one-line error."""
    from ec_core.journal import Journal
    from ec_core.tracking import OrderTracker

    if not path.is_file():
        raise click.ClickException(f"journal not found: {path}")
    try:
        with Journal(path) as opened:
            tracker = OrderTracker(clock=WallClock())
            opened.replay(tracker)
            yield opened, tracker
    except EcError as exc:
        raise click.ClickException(str(exc)) from exc


_journal_option = click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: journal_path of the settings).",
)
_config_option = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Settings file (TOML)."
)


@click.group("orders", short_help="List the journal's open orders; void a ghost one.")
def orders_command() -> None:
    """The journal's open orders, and voiding one the venue does not have."""


@orders_command.command("list")
@_journal_option
@_config_option
@click.option("--account", "account_id", default=None, help="Only this account's orders.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(
    journal: Path | None, config: Path | None, account_id: str | None, as_json: bool
) -> None:
    """Orders the journal holds as open (they count against the limits)."""
    path = _journal_path(journal, config)
    with _replayed(path) as (_, tracker):
        orders = tracker.open_orders(account_id)
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(orders), indent=2).decode())
        return
    if not orders:
        click.echo(f"no open orders in {path.name}")
        return
    click.echo(f"{len(orders)} open order(s) in {path.name} (ec orders void ID --reason ...):")
    for order in orders:
        price = order.limit_price if order.limit_price is not None else order.order_type.value
        click.echo(
            f"  {order.chain_id:<24} {order.account_id:<10} {order.symbol:<8}"
            f" {order.side.value:<4} {order.filled_qty}/{order.qty} @ {price}  {order.state.value}"
        )


@orders_command.command("void")
@click.argument("order_id")
@click.option("--reason", required=True, help="Why (journaled with the void).")
@_journal_option
@_config_option
def void_command(order_id: str, reason: str, journal: Path | None, config: Path | None) -> None:
    """Close open order ORDER_ID (chain or client id) as VOIDED: the venue does not have it."""
    from ec_core.execution.void import void_order

    with _replayed(_journal_path(journal, config)) as (opened, tracker):
        order = void_order(
            tracker,
            order_id,
            reason=reason,
            by=f"operator {getpass.getuser()}",
            now_ns=time.time_ns(),
            journal=opened.append,
        )
    click.echo(
        f"voided {order.chain_id} ({order.account_id} {order.symbol} {order.side.value}"
        f" {order.qty}): {reason}"
    )
