"""Copy example files into the tutorials' code blocks, so the pages read on a code host too.

A block is marked by the comment line before it::

    <!-- inline: example_plugin/src/ec_echo/plugin.py -->
    ```python
    ...the file's text, verbatim...
    ```

(the path is relative to ``docs/tutorials/``). Run
``uv run python docs/gen/inline_examples.py`` after changing an example file;
``--check`` exits 1 if a page's copy differs from its file (a test runs the check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
PAGES = ("write-a-vendor-plugin.md", "test-a-strategy-on-the-mock.md")
_BLOCK = re.compile(
    r"(?P<head><!-- inline: (?P<path>[^ ]+) -->\n(?:<!-- fmt: off -->\n)?```(?P<lang>\w*)\n)"
    r"(?P<body>.*?)(?P<tail>^```$)",
    re.DOTALL | re.MULTILINE,
)


def inlined(page: str) -> str:
    """``page`` with every marked block replaced by its file's text."""

    def fill(match: re.Match[str]) -> str:
        text = (TUTORIALS / match["path"]).read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
        return match["head"] + text + match["tail"]

    return _BLOCK.sub(fill, page)


def blocks(page: str) -> list[tuple[str, str]]:
    """``(path, body)`` of every marked block of ``page``."""
    return [(m["path"], m["body"]) for m in _BLOCK.finditer(page)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    args = parser.parse_args(argv)
    stale = []
    for name in PAGES:
        path = TUTORIALS / name
        page = path.read_text(encoding="utf-8")
        fresh = inlined(page)
        if fresh != page:
            stale.append(name)
            if not args.check:
                path.write_text(fresh, encoding="utf-8")
    if args.check and stale:
        print(f"stale examples in {', '.join(stale)}: run docs/gen/inline_examples.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
