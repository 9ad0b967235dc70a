"""The ``mock`` vendor plugin (entry point ``ec.plugins: mock``).

Registers the in-process ``mock`` vendor, adds ``ec mock serve`` and ``ec demo``
to the command line, and declares the ``ec_mock_add_dialects`` hook through
which vendor distributions serve the simulator in their own wire protocol (and
implements it for its own ``json`` dialect).
Everything here is cheap: the engine is imported when a session opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ec_core.plugins import hookimpl

if TYPE_CHECKING:
    import click
    from ec_core.plugins import PluginHost, VendorRegistry

    from ec_mock.dialects import DialectRegistry


@hookimpl
def ec_addhooks(host: PluginHost) -> None:
    from ec_mock import dialects

    host.add_hookspecs(dialects)


@hookimpl
def ec_mock_add_dialects(dialects: DialectRegistry) -> None:
    """ec-mock's own ``json`` dialect (``ec mock serve --dialect json``)."""
    from ec_mock.jsonwire import JsonDialect

    dialects.add(JsonDialect())


@hookimpl
def ec_register_vendors(vendors: VendorRegistry) -> None:
    from ec_mock.vendor.factory import MockVendorFactory

    vendors.add(MockVendorFactory())


@hookimpl
def ec_add_commands(cli: click.Group) -> None:
    from ec_mock.cli import demo_command, mock_group

    cli.add_command(mock_group)
    cli.add_command(demo_command)
