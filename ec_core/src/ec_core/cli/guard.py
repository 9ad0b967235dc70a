"""The last line of every ``ec`` command: what escapes a command becomes one ``Error:`` line.

A command says what went wrong in its own words where it can (:func:`~ec_core.cli.failure.fail`).
What still escapes it ends here instead of in a traceback: Ctrl-C (exit 130, the shell's
code for SIGINT), an :class:`~ec_core.errors.EcError` raised inside a task group (anyio wraps
it in an exception group), an ``OSError`` (a file or port the system refused: its path and
reason) and, last, anything else (named as a defect of ec to report). ``ec -v`` prints the
traceback before the line. Errors of several tasks are named one after the other on the line;
Ctrl-C beside other errors is still an interrupt.
"""

from __future__ import annotations

import traceback
from typing import Any, Final, final

import click

from ec_core.errors import EcError

__all__ = ["EXIT_INTERRUPTED", "GuardedGroup", "leaf_errors", "os_error_text", "sole_error"]

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


def leaf_errors(exc: BaseException) -> list[BaseException]:
    """Every error inside ``exc``'s (nested) exception groups, in order; ``[exc]`` for one
    that is not a group."""
    if not isinstance(exc, BaseExceptionGroup):
        return [exc]
    return [leaf for inner in exc.exceptions for leaf in leaf_errors(inner)]


@final
class GuardedGroup(click.Group):
    """The root ``ec`` group: runs a command and turns what escapes it into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _interrupted(ctx, None) from None
        except _CLICK_ENDINGS:
            raise
        except Exception as exc:  # the point: no traceback reaches the user
            raise _ending(ctx, exc) from exc
        except BaseExceptionGroup as group:
            # Ctrl-C inside a task group, alone or beside what other tasks raised while
            # they were cancelled: the user asked to stop, that is the outcome
            if group.subgroup(KeyboardInterrupt) is None:
                raise
            raise _interrupted(ctx, group) from None


def _interrupted(
    ctx: click.Context, group: BaseExceptionGroup[Any] | None
) -> click.exceptions.Exit:
    if group is not None and _verbose(ctx) and group.subgroup(Exception) is not None:
        click.echo("".join(traceback.format_exception(group)).rstrip(), err=True)
    click.echo("ec: interrupted (Ctrl-C)", err=True)
    return click.exceptions.Exit(EXIT_INTERRUPTED)


def _verbose(ctx: click.Context) -> bool:
    return bool(int(ctx.params.get("verbose") or 0))


def _ending(ctx: click.Context, exc: Exception) -> click.exceptions.Exit | click.ClickException:
    leaves = leaf_errors(exc)
    for inner in leaves:
        if isinstance(inner, _CLICK_ENDINGS):
            if isinstance(inner, click.exceptions.Abort):
                return click.ClickException("aborted")
            return inner
    if _verbose(ctx):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    texts = [_text(inner) for inner in leaves]
    if any(not isinstance(inner, (EcError, OSError)) for inner in leaves):
        texts[-1] += " (a defect of ec: please report it with the traceback `ec -v ...` prints)"
    return click.ClickException("; ".join(texts))


def _text(exc: BaseException) -> str:
    if isinstance(exc, EcError):
        return str(exc)
    if isinstance(exc, OSError):
        return os_error_text(exc)
    return f"unexpected {type(exc).__name__}: {exc}"
