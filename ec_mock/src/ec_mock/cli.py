"""``ec mock serve`` and ``ec demo``: the command-line front ends of ec-mock.

Both are added to ``ec`` by :mod:`ec_mock.plugin` through ``ec_add_commands``.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import ssl
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click
from ec_core.cli.account_option import check_accounts
from ec_core.cli.guard import sole_error
from ec_core.clock import WallClock, utc_iso
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost
from ec_core.safety import datetime_ns
from ec_core.secrets import Secret

DEMO_SYMBOL = "EP"  # E-mini S&P 500: the instrument ec demo trades unless told otherwise
#: Events per symbol the tape of ``ec mock serve`` keeps for history (~140 bytes each: ~28 MB
#: a symbol, ~4.5 hours of its simulated market); a server runs for days.
SERVE_TAPE_EVENTS = 200_000
#: The longest simulated past ``--history`` runs before serving: it is simulated at about two
#: minutes of market per CPU second (6h: some three minutes before the first connection).
MAX_HISTORY_NS = 6 * 3_600_000_000_000

if TYPE_CHECKING:
    from ec_mock.dialects import Dialect, Endpoint, ServeOptions
    from ec_mock.vendor.venue import MockVenue

__all__ = ["SERVE_TAPE_EVENTS", "demo_command", "mock_group", "serve_venue"]


@click.group("mock")
def mock_group() -> None:
    """The exchange simulator of ec-mock."""


@mock_group.command("serve")
@click.option(
    "--dialect",
    "dialect_name",
    required=True,
    help="Wire dialect to serve: cqg (CQG WebAPI, with ec-cqg), json (a small venue to write"
    " a plugin against), or one a vendor distribution adds.",
)
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
    callback=check_accounts,
    show_default=True,
    help="Accounts to open on the venue (repeatable).",
)
@click.option("--no-market", is_flag=True, help="No background liquidity and trades.")
@click.option(
    "--history",
    "history_text",
    default="10m",
    show_default=True,
    help="Simulated market to backfill before now (e.g. 30m, 2h; 0: none), for history.",
)
@click.option(
    "--tape-events",
    type=click.IntRange(min=2),
    default=SERVE_TAPE_EVENTS,
    show_default=True,
    help="Quotes and trades per symbol kept for history (the oldest half goes when full).",
)
@click.option(
    "--start",
    "start_text",
    default=None,
    help="Serve as of this instant (ISO 8601 with zone, e.g. 2024-01-10T15:00Z); wall pace.",
)
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
    history_text: str,
    tape_events: int,
    start_text: str | None,
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
    history_ns = 0 if no_market else _duration_ns(history_text)
    start_ns = None if start_text is None else _instant_ns(start_text)
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
    try:
        with contextlib.suppress(KeyboardInterrupt):
            venue = serve_venue(
                seed=seed, accounts=accounts, market=not no_market, history_ns=history_ns,
                start_ns=start_ns, tape_events=tape_events,
            )  # fmt: skip
            anyio.run(_serve, dialect, options, venue, accounts, history_ns, start_ns)
    except Exception as exc:
        raise _serve_failure(sole_error(exc), options) from exc
    click.echo("ec mock serve: stopped")


def _serve_failure(exc: BaseException, options: ServeOptions) -> BaseException:
    """What the user can do about a server that did not start: a port in use, TLS files that
    do not load; anything else as it came."""
    if isinstance(exc, ssl.SSLError):
        return click.ClickException(
            f"--certfile/--keyfile: {options.certfile} and {options.keyfile} do not load as a"
            f" PEM certificate chain and its private key ({exc})"
        )
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return click.ClickException(
            f"--port: {options.host}:{options.port} is in use (another server, or an earlier"
            " ec mock serve): pick another port, or --port 0 for a free one"
        )
    return exc


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


def _duration_ns(text: str) -> int:
    """``--history``: ``0``/``none``, or a time frame such as ``30m`` or ``2h``."""
    if text.strip().lower() in ("0", "none"):
        return 0
    try:
        frame = Timeframe.parse(text.strip())
    except ConfigError:
        frame = None
    if frame is None or frame.kind is not BarKind.TIME:
        raise click.BadParameter(
            f"{text!r} is not a duration: write e.g. 30m or 2h (0 for none)",
            param_hint="--history",
        )
    if frame.size > MAX_HISTORY_NS:
        raise click.BadParameter(
            f"{text!r} is longer than 6h, the most it simulates before serving (about two"
            " minutes of market per CPU second; the tape keeps --tape-events per symbol)",
            param_hint="--history",
        )
    return frame.size


def _instant_ns(text: str) -> int:
    """``--start``: an ISO 8601 instant with its zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.BadParameter(
            f"{text!r} is not an instant with a zone: write e.g. 2024-01-10T15:00:00Z",
            param_hint="--start",
        )
    return datetime_ns(moment)


async def _serve(
    dialect: Dialect,
    options: ServeOptions,
    venue: MockVenue,
    accounts: tuple[str, ...],
    history_ns: int,
    start_ns: int | None,
) -> None:
    """Serve ``venue`` (built by :func:`serve_venue`) until SIGINT or SIGTERM."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(venue.run)
            async with dialect.serve(venue, options) as endpoint:
                click.echo(f"ec mock serve: {dialect.name} dialect serving at {endpoint.url}")
                named = _accounts_text(accounts, endpoint, dialect.name)
                click.echo(f"accounts: {named}; press Ctrl-C to stop")
                if start_ns is not None:
                    click.echo(f"the venue's clock started at {utc_iso(start_ns)}")
                if history_ns:
                    click.echo(f"history: {_span_text(history_ns)} of simulated market backfilled")
                sys.stdout.flush()
                async for received in signals:
                    click.echo(f"ec mock serve: {signal.Signals(received).name}, shutting down")
                    break
            tasks.cancel_scope.cancel()
    venue.check()


def _accounts_text(accounts: tuple[str, ...], endpoint: Endpoint, dialect: str) -> str:
    """``MOCK-1``, or ``MOCK-1 (cqg account id 1001)`` where the dialect's clients name
    the account otherwise: that id is the one their settings and limits file use."""
    named = []
    for account in accounts:
        own = endpoint.accounts.get(account)
        named.append(
            account if own in (None, account) else f"{account} ({dialect} account id {own})"
        )
    return ", ".join(named)


def serve_venue(
    *,
    seed: int,
    accounts: tuple[str, ...],
    market: bool,
    history_ns: int,
    start_ns: int | None,
    tape_events: int = SERVE_TAPE_EVENTS,
) -> MockVenue:
    """The venue ``ec mock serve`` serves: wall-paced (from ``start_ns`` if given), its
    simulated past backfilled, its tape bounded to ``tape_events`` per symbol."""
    from ec_mock.vendor.backfill import PacedClock, backfilled_venue
    from ec_mock.vendor.venue import MockVenue

    clock = WallClock() if start_ns is None else PacedClock(start_ns)
    if market:
        return backfilled_venue(
            span_ns=history_ns, seed=seed, clock=clock, accounts=accounts,
            tape_capacity=tape_events,
        )  # fmt: skip
    return MockVenue.create(
        seed=seed, pace="wall", clock=clock, accounts=accounts, market=False,
        tape_capacity=tape_events,
    )  # fmt: skip


def _span_text(ns: int) -> str:
    seconds = ns // 1_000_000_000
    if seconds % 60:
        return f"{seconds}s"
    minutes = seconds // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


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
