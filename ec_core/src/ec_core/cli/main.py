"""Entry point of the ``ec`` command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from ec_core import __version__
from ec_core.cli.data_cmd import data_command
from ec_core.cli.gateway_cmd import gateway_command
from ec_core.cli.guard import GuardedGroup
from ec_core.cli.limits_cmd import limits_command
from ec_core.cli.orders_cmd import orders_command
from ec_core.cli.plugins_cmd import plugins_command
from ec_core.cli.replay_cmd import replay_command
from ec_core.cli.run_cmd import run_command
from ec_core.plugins import PluginHost, PluginStatus
from ec_core.plugins.host import KNOWN_COMMANDS

__all__ = ["build_cli", "main"]


def build_cli(host: PluginHost) -> click.Group:
    """The root command group with core's commands and every plugin's."""

    @click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="ec")
    @click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
    @click.pass_context
    def cli(ctx: click.Context, verbose: int) -> None:
        """ec: async algorithmic trading of futures through vendor plugins."""
        level = logging.WARNING - 10 * min(verbose, 2)
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        ctx.obj = host

    @cli.command("help")
    @click.argument("command", required=False)
    @click.pass_context
    def help_command(ctx: click.Context, command: str | None) -> None:
        """Show the help of ec or of COMMAND (same as --help)."""
        parent = ctx.parent if ctx.parent is not None else ctx
        if command is None:
            click.echo(cli.get_help(parent))
            return
        found = cli.get_command(parent, command)
        if found is None:
            raise click.UsageError(f"No such command {command!r}.", ctx=parent)
        with click.Context(found, info_name=command, parent=parent) as sub:
            click.echo(found.get_help(sub))

    cli.add_command(plugins_command)
    cli.add_command(run_command)
    cli.add_command(replay_command)
    cli.add_command(orders_command)
    cli.add_command(data_command)
    cli.add_command(gateway_command)
    cli.add_command(limits_command)
    host.add_commands(cli)
    for name, distribution in KNOWN_COMMANDS.items():
        if name not in cli.commands:
            cli.add_command(_not_installed(name, distribution, host))
    return cli


def _not_installed(name: str, distribution: str, host: PluginHost) -> click.Command:
    """A hidden stand-in for a command ``distribution`` adds: it names what to install (or
    why the installed plugin did not load) instead of click's bare "No such command"."""
    failed = [
        r.error
        for r in host.records
        if r.distribution == distribution and r.status is PluginStatus.FAILED
    ]
    if failed:
        why = f"whose plugin failed to load ({failed[0]}): see `ec plugins`"
    else:
        why = f"which is not installed: pip install {distribution}"

    def refuse() -> None:
        raise click.UsageError(f"`ec {name}` comes with {distribution}, {why}")

    return click.Command(
        name,
        callback=refuse,
        help=f"Not available: `ec {name}` comes with {distribution}, {why}.",
        hidden=True,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def main(argv: Sequence[str] | None = None) -> None:
    # Plugin faults are reported by `ec plugins`; keep other commands quiet about them
    # (loading and adding plugin commands both record faults instead of raising).
    host_log = logging.getLogger("ec_core.plugins.host")
    host_log.setLevel(logging.CRITICAL)
    try:
        host = PluginHost.load()
        cli = build_cli(host)
    finally:
        host_log.setLevel(logging.NOTSET)
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="ec")
