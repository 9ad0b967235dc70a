"""The last line of every ``ec`` command: what escapes a command becomes one ``Error:`` line.

A command says what went wrong in its own words where it can (:func:`~ec_core.cli.failure.fail`).
What still escapes it ends here instead of in a traceback: Ctrl-C (exit 130, the shell's
code for SIGINT), an :class:`~ec_core.errors.EcError` raised inside a task group (anyio wraps
it in an exception group), an ``OSError`` (a file or port the system refused: its path and
reason) and, last, anything else (named as a defect of ec to report). ``ec -v`` prints the
traceback before the line.
"""

from __future__ import annotations

import traceback
from typing import Any, Final, final

import click

from ec_core.errors import EcError

__all__ = ["EXIT_INTERRUPTED", "GuardedGroup", "os_error_text", "sole_error"]

#: Exit code of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED: Final = 130

_CLICK_ENDINGS = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


def sole_error(exc: BaseException) -> BaseException:
    """The one exception inside nested one-member exception groups (a task group wraps what
    its task raised), else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def os_error_text(exc: OSError) -> str:
    """``path: reason`` of an ``OSError`` (``reason`` alone when it names no path)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    return f"{exc.filename}: {reason}"


@final
class GuardedGroup(click.Group):
    """The root ``ec`` group: runs a command and turns what escapes it into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("ec: interrupted (Ctrl-C)", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except _CLICK_ENDINGS:
            raise
        except Exception as exc:  # the point: no traceback reaches the user
            raise _ending(ctx, exc) from exc
        except BaseExceptionGroup as group:  # Ctrl-C inside a task group
            if not isinstance(sole_error(group), KeyboardInterrupt):
                raise
            click.echo("ec: interrupted (Ctrl-C)", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _ending(ctx: click.Context, exc: Exception) -> click.exceptions.Exit | click.ClickException:
    inner = sole_error(exc)
    if isinstance(inner, _CLICK_ENDINGS):
        if isinstance(inner, click.exceptions.Abort):
            return click.ClickException("aborted")
        return inner
    if int(ctx.params.get("verbose") or 0):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    if isinstance(inner, EcError):
        return click.ClickException(str(inner))
    if isinstance(inner, OSError):
        return click.ClickException(os_error_text(inner))
    return click.ClickException(
        f"unexpected {type(inner).__name__}: {inner} (a defect of ec: please report it"
        " with the traceback `ec -v ...` prints)"
    )
