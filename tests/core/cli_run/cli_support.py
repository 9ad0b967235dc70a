"""Running ``ec`` as a user does: a real subprocess, no settings file from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EC = [sys.executable, "-c", "from ec_core.cli.main import main; main()"]
TIMEOUT = 60


def ec(*args: str, cwd: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("EC_SETTINGS", None)
    return subprocess.run(
        [*EC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
