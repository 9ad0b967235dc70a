"""The built-in safety plugin: core's pre-trade rules and the ``ec kill-switch`` command.

The rules register through the same ``ec_register_validators`` hook as any
plugin's, so a user can replace one by name (``validators.add(mine,
replace=True)`` in a plugin registered later) or remove it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ec_core.plugins.markers import hookimpl
from ec_core.safety.rules import builtin_validators
from ec_core.validation import ValidatorRegistry

if TYPE_CHECKING:
    import click


@hookimpl(tryfirst=True)
def ec_register_validators(validators: ValidatorRegistry) -> None:
    # tryfirst: built-ins are in the registry before any other plugin's hook runs,
    # so a plugin can replace or remove one of them by name.
    for validator in builtin_validators():
        validators.add(validator)


@hookimpl
def ec_add_commands(cli: click.Group) -> None:
    from ec_core.cli.killswitch_cmd import kill_switch_command

    cli.add_command(kill_switch_command)
