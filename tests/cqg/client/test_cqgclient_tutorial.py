"""docs/tutorials/trade-via-cqg.md followed as written: ``ec mock serve --dialect cqg``
in a subprocess, the page's limits, settings and ``trade.py`` in an empty folder, the
account id read from what the server prints.

Found from outside the repository: the server printed ``accounts: MOCK-1`` while a CQG
logon trades the account as a number (``known: 1002``), and every limit order of
``connect`` was denied ``NO_REFERENCE_PRICE`` under the sample's price band.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ec_core.cli.limits_cmd import sample_limits_text
from mock_serve import serve_subprocess

pytestmark = pytest.mark.slow

PAGE = Path(__file__).parents[3] / "docs" / "tutorials" / "trade-via-cqg.md"
_ACCOUNT = re.compile(r"accounts: MOCK-1 \(cqg account id (\d+)\)")


def _blocks(fence: str) -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_shows_what_the_server_prints_and_the_settings_it_needs() -> None:
    shown = "\n".join(_blocks(""))
    assert "ec mock serve --dialect cqg --user u --password p" in shown
    assert _ACCOUNT.search(shown), shown
    settings = _blocks("toml")[0]
    assert 'account_id = "1001"' in settings
    assert 'url = "ws://127.0.0.1:PORT"' in settings


def test_the_tutorial_trades_through_connect_against_ec_mock_serve(tmp_path: Path) -> None:
    # --start: in session whatever the hour the suite runs (the page says when a user needs it)
    serve = ("--dialect", "cqg", "--user", "u", "--start", "2024-01-10T15:00:01Z")
    with serve_subprocess(*serve, password="p", ready="accounts:") as (
        lines,
        url,
    ):
        found = _ACCOUNT.search(lines[-1])
        assert found, lines
        account = found.group(1)
        assert account == "1001"  # what the page shows
        limits = sample_limits_text().replace('"CHANGE-ME"', f'"{account}"')
        (tmp_path / "limits.toml").write_text(limits, encoding="utf-8")
        settings = _blocks("toml")[0].replace("ws://127.0.0.1:PORT", url)
        (tmp_path / "ec.toml").write_text(settings, encoding="utf-8")
        (program,) = _blocks("py")[:1]
        (tmp_path / "trade.py").write_text(program, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EC_")}
        env |= {"EC_SETTINGS": "ec.toml", "EC_CQG_PASSWORD": "p"}
        done = subprocess.run(
            [sys.executable, "trade.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    sent, final = done.stdout.splitlines()
    assert re.fullmatch(r"sent: \S+ BUY 1 @ \d+\.\d+", sent), sent
    assert final.startswith(("final: CANCELLED", "final: FILLED")), final
