"""``ec plugins``: what is installed, what each plugin implements, and what failed."""

from __future__ import annotations

import click
import msgspec
from rich.console import Console
from rich.table import Table

from ec_core.plugins import PluginHost, PluginStatus


@click.command("plugins")
@click.option("--strict", is_flag=True, help="Exit with status 1 if any plugin failed to load.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def plugins_command(host: PluginHost, strict: bool, as_json: bool) -> None:
    """List plugins: name, distribution, version, status and the hooks each implements."""
    records = host.records
    vendors = host.vendors()
    if as_json:
        payload = {
            "plugins": records,
            "vendors": vendors.infos(),
        }
        click.echo(msgspec.json.encode(payload).decode())
    else:
        console = Console(highlight=False)
        table = Table(title="ec plugins")
        for column in ("plugin", "distribution", "version", "status", "hooks / error"):
            table.add_column(column)
        for record in records:
            detail = (
                ", ".join(record.hooks) if record.status is PluginStatus.LOADED else record.error
            )
            status = "[green]loaded" if record.status is PluginStatus.LOADED else "[red]FAILED"
            name = f"{record.name} (built-in)" if record.builtin else record.name
            table.add_row(name, record.distribution, record.version, status, detail)
        console.print(table)
        names = ", ".join(info.name for info in vendors.infos()) or "none"
        console.print(f"vendors: {names}")
    failed = [r for r in records if r.status is PluginStatus.FAILED]
    if strict and failed:
        raise SystemExit(1)
