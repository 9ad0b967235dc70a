"""The root ``ec`` group (:class:`~ec_core.cli.guard.GuardedGroup`): what escapes a command
is one ``Error:`` line and a non-zero exit, and ``ec -v`` still shows the real error's
traceback (no error is hidden, only kept off the plain output).

Real click commands added to the real root group, run through click's runner.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import click
import pytest
from click.testing import CliRunner, Result
from ec_core.cli.main import build_cli
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost


def run(body: Callable[[], object], *args: str) -> Result:
    """``ec [args] boom`` where the command ``boom`` runs ``body``."""
    cli = build_cli(PluginHost.load())
    cli.add_command(click.Command("boom", callback=body))
    return CliRunner().invoke(cli, [*args, "boom"])


def in_task_group(exc: BaseException) -> Callable[[], object]:
    """A command whose error is raised inside a task group (anyio wraps it in a group)."""

    async def task() -> None:
        raise exc

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(task)

    return lambda: anyio.run(main)


def raises(exc: BaseException) -> Callable[[], object]:
    def body() -> None:
        raise exc

    return body


def error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    return line


@pytest.mark.parametrize("wrap", [raises, in_task_group])
def test_an_unexpected_error_is_one_line_naming_a_defect(
    wrap: Callable[[BaseException], Callable[[], object]],
) -> None:
    result = run(wrap(RuntimeError("boom")))
    line = error_line(result)
    assert line.startswith("Error: unexpected RuntimeError: boom (a defect of ec")
    assert "ec -v" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("wrap", [raises, in_task_group])
def test_ec_v_prints_the_real_errors_traceback_before_the_line(
    wrap: Callable[[BaseException], Callable[[], object]],
) -> None:
    result = run(wrap(RuntimeError("boom")), "-v")
    line = error_line(result)
    assert "Traceback" in result.output
    assert "RuntimeError: boom" in result.output.split(line)[0]  # the traceback comes first


@pytest.mark.parametrize("wrap", [raises, in_task_group])
def test_an_ec_error_is_its_own_message(
    wrap: Callable[[BaseException], Callable[[], object]],
) -> None:
    result = run(wrap(ConfigError("must be positive", path="risk.max_qty")))
    assert error_line(result) == "Error: risk.max_qty: must be positive"
    assert "Traceback" not in result.output


def test_an_os_error_names_its_path_and_reason() -> None:
    result = run(raises(FileNotFoundError(2, "No such file or directory", "cle.csv")))
    assert error_line(result) == "Error: cle.csv: No such file or directory"


@pytest.mark.parametrize("wrap", [raises, in_task_group])
def test_ctrl_c_exits_130_with_one_line(
    wrap: Callable[[BaseException], Callable[[], object]],
) -> None:
    result = run(wrap(KeyboardInterrupt()))
    assert result.exit_code == 130, result.output
    assert result.output.strip() == "ec: interrupted (Ctrl-C)"


def test_a_click_exit_inside_a_task_group_keeps_its_code() -> None:
    result = run(in_task_group(click.exceptions.Exit(3)))
    assert result.exit_code == 3, result.output
    assert "Error" not in result.output


@pytest.mark.parametrize(
    "group",
    [
        # a task got Ctrl-C while another failed as it was cancelled
        BaseExceptionGroup(
            "unhandled errors in a TaskGroup", [KeyboardInterrupt(), OSError(5, "x")]
        ),
        # nested, beside a second interrupt
        BaseExceptionGroup(
            "outer", [BaseExceptionGroup("inner", [KeyboardInterrupt()]), KeyboardInterrupt()]
        ),
        BaseExceptionGroup(
            "outer", [RuntimeError("boom"), BaseExceptionGroup("i", [KeyboardInterrupt()])]
        ),
    ],
)
def test_ctrl_c_grouped_with_other_errors_exits_130_with_one_line(
    group: BaseExceptionGroup,
) -> None:
    # It printed the exception group's traceback: only a group of one interrupt was seen.
    result = run(raises(group))
    assert result.exit_code == 130, result.output
    assert result.output.strip() == "ec: interrupted (Ctrl-C)"


def test_ctrl_c_grouped_shows_the_traceback_under_ec_v() -> None:
    group = BaseExceptionGroup("g", [KeyboardInterrupt(), RuntimeError("beside")])
    result = run(raises(group), "-v")
    assert result.exit_code == 130, result.output
    assert "RuntimeError: beside" in result.output
    assert result.output.rstrip().endswith("ec: interrupted (Ctrl-C)")


def test_several_errors_of_a_task_group_name_each_on_one_line() -> None:
    group = ExceptionGroup(
        "unhandled errors in a TaskGroup",
        [ConfigError("must be positive", path="risk.max_qty"), RuntimeError("boom")],
    )
    result = run(raises(group))
    line = error_line(result)
    assert "risk.max_qty: must be positive" in line
    assert "unexpected RuntimeError: boom" in line
    assert "Traceback" not in result.output
