"""Every Python block of docs/ runs as written, or says it is an excerpt.

The convention (docs/index.md, "Code in these pages"): a block fenced ```` ```python ```` is a
complete program; a block fenced ```` ```py ```` is an excerpt (a fragment, a signature, a file
of a package, or a program that needs what the page sets up first). Each ``python`` block runs
here in its own interpreter, from an empty temporary folder, with no ``$EC_SETTINGS`` (so the
mock vendor and default settings), under a deadline; the blocks run in parallel threads.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
DEADLINE_S = 60.0
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def python_blocks(text: str) -> list[tuple[int, str, str]]:
    """``(line, language, source)`` of each fenced block of ``text`` whose language is Python
    (``python`` or ``py``), dedented as a list item's block is."""
    found = []
    for match in _FENCE.finditer(text):
        language = match["info"].split(" ", 1)[0].strip()
        if language in ("python", "py"):
            indent = len(match["indent"])
            source = "\n".join(line[indent:] for line in match["body"].splitlines())
            found.append((text.count("\n", 0, match.start()) + 1, language, source + "\n"))
    return found


def _all_blocks() -> dict[str, tuple[str, str]]:
    blocks = {}
    for page in sorted(DOCS.rglob("*.md")):
        name = page.relative_to(DOCS).as_posix()
        for line, language, source in python_blocks(page.read_text(encoding="utf-8")):
            blocks[f"{name}:{line}"] = (language, source)
    return blocks


BLOCKS = _all_blocks()
RUNNABLE = sorted(where for where, (language, _) in BLOCKS.items() if language == "python")


def _run(where: str) -> str | None:
    """None if the block at ``where`` exits 0, else what went wrong."""
    env = {key: value for key, value in os.environ.items() if key != "EC_SETTINGS"}
    with tempfile.TemporaryDirectory(prefix="ec-docs-") as folder:
        script = Path(folder) / "block.py"
        script.write_text(BLOCKS[where][1], encoding="utf-8")
        try:
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=DEADLINE_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"still running after {DEADLINE_S:.0f}s"
    if done.returncode == 0:
        return None
    return f"exit status {done.returncode}:\n{done.stderr[-3000:]}"


@functools.cache
def outcomes() -> dict[str, str | None]:
    """Each runnable block's outcome, all run at once (one interpreter each, in threads)."""
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        return dict(zip(RUNNABLE, pool.map(_run, RUNNABLE), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("where", RUNNABLE)
def test_a_python_block_runs_as_written(where: str) -> None:
    failure = outcomes()[where]
    assert failure is None, (
        f"docs/{where} does not run as written ({failure}); fix it, or fence it ```py "
        "if it is an excerpt (docs/index.md, 'Code in these pages')"
    )


def test_the_docs_have_runnable_blocks_and_the_quick_start_is_one_on_connect() -> None:
    assert len(RUNNABLE) >= 10
    quick_start = [BLOCKS[where][1] for where in RUNNABLE if where.startswith("quickstart.md")]
    connect = [source for source in quick_start if "ec_core.connect(" in source]
    assert connect, "the quick start's connect example must be a runnable ```python block"
    (source,) = connect
    inside = source.split('ec_core.connect("mock") as trader:', 1)[1].split("\n\n", 1)[0]
    assert len(inside.strip().splitlines()) == 4  # five lines with the `async with` itself


def test_the_convention_is_written_down() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    section = index.split("## Code in these pages", 1)[1]
    assert "```python" in section
    assert "```` ```py ````" in section


def test_the_block_reader_sees_indented_and_excerpt_blocks() -> None:
    text = "a\n\n- item:\n\n  ```python\n  x = 1\n  ```\n\n```py\ny(\n```\n\n```toml\nz = 1\n```\n"
    assert python_blocks(text) == [(5, "python", "x = 1\n"), (9, "py", "y(\n")]
