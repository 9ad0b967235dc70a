"""``ec plugins``: what is installed, what each plugin implements, and what failed."""

from __future__ import annotations

import click
import msgspec
from rich.console import Console
from rich.table import Table

from ec_core.plugins import PluginHost, PluginStatus


@click.command("plugins", short_help="List installed plugins, vendors and their status.")
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 1 if any plugin failed to load or two distributions claim one vendor.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def plugins_command(host: PluginHost, strict: bool, as_json: bool) -> None:
    """List plugins: name, distribution, version, status and the hooks each implements."""
    # Build the registries first: a plugin whose registration hook raises is failed there.
    vendors = host.vendors()
    host.validators()
    records = host.records
    failed = [r for r in records if r.status is PluginStatus.FAILED]
    conflicts = vendors.conflicts()
    if as_json:
        payload = {"plugins": records, "vendors": vendors.infos(), "conflicts": conflicts}
        click.echo(msgspec.json.encode(payload).decode())
    else:
        console = Console(highlight=False, soft_wrap=False)
        table = Table(title="ec plugins")
        table.add_column("plugin", overflow="fold")
        table.add_column("distribution", overflow="fold")
        table.add_column("status")
        # One hook a line and room for the longest core hook name at 80 columns (the
        # version shares the distribution's column for that): names wrap, never elide.
        table.add_column("hooks", overflow="fold")
        for record in records:
            loaded = record.status is PluginStatus.LOADED
            table.add_row(
                f"{record.name} (built-in)" if record.builtin else record.name,
                f"{record.distribution} {record.version}",
                "[green]loaded" if loaded else "[red]FAILED",
                "\n".join(record.hooks) if loaded else "-",
            )
        console.print(table)
        names = ", ".join(vendors.names()) or "none"
        console.print(f"vendors: {names}")
        # Causes in full, one per line and never cut by the table's width.
        for record in failed:
            click.echo(
                f"FAILED {record.name} (distribution {record.distribution} {record.version}):"
                f" {record.error}"
            )
        for name, dists in conflicts.items():
            choices = " or ".join(f'vendor = "{d}:{name}"' for d in dists)
            click.echo(
                f"CONFLICT vendor {name!r} is registered by {' and '.join(dists)}:"
                f" the bare name selects neither; choose with {choices}"
            )
        for record in records:
            for warning in record.warnings:
                click.echo(f"WARNING {record.name} ({record.distribution}): {warning}")
    if strict and (failed or conflicts):
        raise SystemExit(1)
