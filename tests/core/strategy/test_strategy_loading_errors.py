"""A strategy file that cannot be loaded is one ``StrategyLoadError`` naming the user's file:line.

Syntax error, failing import, a factory that raises and a class given instead of a
factory each end in one message with the location in the user's code, never a
traceback through ec's internals (the cause is kept for ``-v``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.strategy.loader import RunInfo, StrategyLoadError, load_plan

INFO = RunInfo(account_id="A", vendor="mock", mode="replay")


def load_error(tmp_path: Path, body: str, factory: str = "strategy") -> StrategyLoadError:
    path = tmp_path / "user_strat.py"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(StrategyLoadError) as caught:
        load_plan(f"{path}:{factory}", INFO)
    return caught.value


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, "def strategy(info):\n    x = (\n")
    assert error.file == str(tmp_path / "user_strat.py")
    assert error.line == 2
    assert str(error).startswith(f"{tmp_path / 'user_strat.py'}:2: syntax error:")
    assert "never closed" in str(error)
    assert isinstance(error, ConfigError)


def test_a_failing_import_names_the_line_of_the_import(tmp_path: Path) -> None:
    error = load_error(tmp_path, "import os\nimport no_such_module_xyz\n")
    assert error.line == 2
    assert "importing the strategy file raised ModuleNotFoundError" in str(error)
    assert "No module named 'no_such_module_xyz'" in str(error)
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_a_factory_that_raises_names_the_line_in_the_users_code(tmp_path: Path) -> None:
    body = "def helper():\n    raise RuntimeError('boom')\n\ndef strategy(info):\n    helper()\n"
    error = load_error(tmp_path, body)
    assert error.line == 2  # the deepest frame in the user's file
    assert str(error) == (
        f"{tmp_path / 'user_strat.py'}:2: the strategy factory 'strategy' raised RuntimeError: boom"
    )


def test_a_class_instead_of_a_factory_is_named_as_such(tmp_path: Path) -> None:
    body = "from ec_core.strategy import OpStrategy\n\nclass strategy(OpStrategy):\n    pass\n"
    error = load_error(tmp_path, body)
    assert error.line == 3
    assert "STRATEGY must be a factory `def strategy(info) -> StrategyPlan`" in str(error)
    assert "'strategy' is a class" in str(error)


def test_a_factory_returning_the_wrong_type_names_its_definition(tmp_path: Path) -> None:
    error = load_error(tmp_path, "\ndef strategy(info):\n    return 42\n")
    assert error.line == 2
    assert "got int" in str(error)


def test_a_module_spec_that_fails_inside_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "broken_pkg_mod.py").write_text("x = 1\nraise ValueError('bad config')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(StrategyLoadError) as caught:
            load_plan("broken_pkg_mod:strategy", INFO)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_pkg_mod", None)
    assert caught.value.line == 2
    assert "ValueError: bad config" in str(caught.value)
