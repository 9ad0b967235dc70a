"""Where a benchmark's figures go: one JSON file, its folder made, its path printed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_report"]


def write_report(out: str | Path, report: Mapping[str, object]) -> None:
    """Write ``report`` as indented JSON to ``out`` (folders made) and say where."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
