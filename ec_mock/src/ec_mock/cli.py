"""``ec mock serve`` and ``ec demo``: the command-line front ends of ec-mock.

Both are added to ``ec`` by :mod:`ec_mock.plugin` through ``ec_add_commands``.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret

DEMO_SYMBOL = "EP"  # E-mini S&P 500: the instrument ec demo trades unless told otherwise

if TYPE_CHECKING:
    from ec_mock.dialects import Dialect, ServeOptions

__all__ = ["demo_command", "mock_group"]


@click.group("mock")
def mock_group() -> None:
    """The exchange simulator of ec-mock."""


@mock_group.command("serve")
@click.option("--dialect", "dialect_name", required=True, help="Wire dialect to serve.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65_535),
    show_default=True,
    help="Port to bind; 0 picks a free one (printed).",
)
@click.option("--user", default=None, help="Only this user may log on (default: anyone).")
@click.option(
    "--password",
    default=None,
    envvar="EC_MOCK_PASSWORD",
    show_envvar=True,
    help="Password of --user; prefer the environment variable.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TLS certificate chain (PEM): serve wss:// (needs --keyfile).",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TLS private key (PEM) of --certfile.",
)
@click.option(
    "--insecure-public",
    is_flag=True,
    help="Allow plain ws:// on a host beyond loopback (passwords and orders in clear).",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the simulated market.")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    default=("MOCK-1",),
    show_default=True,
    help="Accounts to open on the venue (repeatable).",
)
@click.option("--no-market", is_flag=True, help="No background liquidity and trades.")
@click.pass_obj
def serve_command(
    host_obj: PluginHost,
    dialect_name: str,
    host: str,
    port: int,
    user: str | None,
    password: str | None,
    certfile: Path | None,
    keyfile: Path | None,
    insecure_public: bool,
    seed: int,
    accounts: tuple[str, ...],
    no_market: bool,
) -> None:
    """Serve the simulator over a wire dialect until Ctrl-C (or SIGTERM)."""
    from ec_mock.dialects import ServeOptions, collect_dialects

    registry = collect_dialects(host_obj)
    dialect = registry.get(dialect_name)
    if dialect is None:
        installed = ", ".join(registry.names()) or "none"
        raise click.UsageError(
            f"unknown dialect {dialect_name!r} (installed dialects: {installed});"
            " vendor distributions add theirs, e.g. `pip install ec-cqg` for cqg"
        )
    if password is not None and user is None:
        raise click.UsageError("--password needs --user")
    try:
        options = ServeOptions(
            host=host,
            port=port,
            user=user,
            password=Secret(password) if password is not None else None,
            seed=seed,
            certfile=certfile,
            keyfile=keyfile,
            insecure_public=insecure_public,
        )
    except ConfigError as exc:
        raise click.UsageError(_as_flags(exc)) from None
    if options.public_in_clear:
        click.echo(
            f"ec mock serve: WARNING: serving plain text on {host} (--insecure-public):"
            " passwords and orders cross the network in clear",
            err=True,
        )
    # Ctrl-C before the signal handler is installed arrives as KeyboardInterrupt.
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_serve, dialect, options, accounts, not no_market)
    click.echo("ec mock serve: stopped")


_FLAGS = {
    "password": "--password/EC_MOCK_PASSWORD",
    "user": "--user",
    "host": "--host",
    "keyfile": "--keyfile",
}


def _as_flags(error: ConfigError) -> str:
    """``error`` in the command's words (``--certfile``, not ``certfile``)."""
    text = error.message
    for word in ("certfile", "keyfile", "insecure_public"):
        text = text.replace(word, "--" + word.replace("_", "-"))
    flag = _FLAGS.get(error.path or "")
    return f"{flag}: {text}" if flag else text


async def _serve(
    dialect: Dialect, options: ServeOptions, accounts: tuple[str, ...], market: bool
) -> None:
    from ec_mock.vendor.venue import MockVenue

    venue = MockVenue.create(seed=options.seed, pace="wall", accounts=accounts, market=market)
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(venue.run)
            async with dialect.serve(venue, options) as endpoint:
                click.echo(f"ec mock serve: {dialect.name} dialect serving at {endpoint.url}")
                click.echo(f"accounts: {', '.join(accounts)}; press Ctrl-C to stop")
                sys.stdout.flush()
                async for received in signals:
                    click.echo(f"ec mock serve: {signal.Signals(received).name}, shutting down")
                    break
            tasks.cancel_scope.cancel()
    venue.check()


@click.command("demo", short_help="Trade a small strategy on the embedded mock exchange.")
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated market.")
@click.option(
    "--symbol",
    default=DEMO_SYMBOL,
    show_default=True,
    help="Instrument to trade (a built-in symbol, e.g. EP = E-mini S&P 500).",
)
@click.pass_obj
def demo_command(host_obj: PluginHost, seed: int, symbol: str | None) -> None:
    """Run a small strategy end to end against the embedded mock exchange."""
    from ec_mock.demo import run_demo

    summary = anyio.run(run_demo, host_obj, seed, symbol)
    if not summary.ok:
        raise SystemExit(1)
