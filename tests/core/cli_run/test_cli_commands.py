"""The ``ec`` commands as a new user meets them: help, vendor errors, defaults.

Real subprocesses. Help texts are read at 80 columns, as on a plain terminal.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from cli_support import ec as ec_at


def ec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return ec_at(*args, cwd=cwd, columns=80)  # help read as on a plain terminal


def test_an_unknown_vendor_is_the_first_error(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("def strategy(info):\n    raise RuntimeError\n")
    done = ec("run", "s.py", "--vendor", "nosuchvendor", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: vendor 'nosuchvendor' is not installed")
    assert "installed vendors: cqg, mock" in done.stderr
    assert "account" not in done.stderr


def test_run_help_lists_installed_vendors_defaults_and_the_config_file(tmp_path: Path) -> None:
    done = ec("run", "--help", cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "installed: cqg, mock" in text
    assert "mock|cqg" not in text
    assert "default: the settings file's vendor, else mock" in text
    assert "default: the settings file's account_id" in text
    assert "limits_file" in text
    assert "journal_path" in text
    assert "--config" in text
    assert "--seed" in text


def test_ec_help_works_for_the_root_and_for_a_command(tmp_path: Path) -> None:
    root = ec("help", cwd=tmp_path)
    assert root.returncode == 0
    assert "Commands:" in root.stdout
    run = ec("help", "run", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout == ec("run", "--help", cwd=tmp_path).stdout
    unknown = ec("help", "nosuch", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "No such command 'nosuch'" in unknown.stderr


def test_no_command_summary_is_cut_at_80_columns(tmp_path: Path) -> None:
    done = ec("--help", cwd=tmp_path)
    commands = done.stdout.split("Commands:")[1]
    assert "..." not in commands, commands


def test_seed_is_for_a_vendor_that_takes_one(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("def strategy(info):\n    raise RuntimeError\n")
    done = ec("run", "s.py", "--vendor", "cqg", "--seed", "3", cwd=tmp_path)
    assert done.returncode == 2
    assert "--seed: vendor 'cqg' takes no seed" in done.stderr
