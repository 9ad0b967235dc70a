"""How a command ends on an :class:`~ec_core.errors.EcError`: one ``Error:`` line.

The message names what to fix (for a strategy file, the file and line of the
user's code); the traceback, which walks through ec's and click's internals, is
printed only when ``ec -v`` asked for it.
"""

from __future__ import annotations

import traceback

import click

from ec_core.errors import EcError

__all__ = ["EXIT_STRATEGY_FAILED", "fail", "verbosity"]

#: Exit code of ``ec run`` / ``ec replay`` when the run completed but a strategy's own code
#: raised (generate, a signal's conditions, a hook) or a strategy was disabled.
EXIT_STRATEGY_FAILED = 3


def verbosity() -> int:
    """How many ``-v`` the root ``ec`` command got (0 outside a click context)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return 0
    return int(ctx.find_root().params.get("verbose") or 0)


def fail(exc: EcError) -> click.ClickException:
    """The exception that ends the command with ``Error: <exc>`` (traceback first under -v)."""
    if verbosity():
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    return click.ClickException(str(exc))
