"""Where in the user's code an exception came from: ``file:line`` of their deepest frame.

A traceback through ec's engine tells a strategy author nothing; the line of their
own ``generate()`` or factory does. Frames of ec itself, the standard library and
installed packages are skipped; what is left is the user's code.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from functools import cache
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

__all__ = ["UserCodeError", "as_typed", "is_user_file", "user_frame"]


@cache
def _library_dirs() -> tuple[str, ...]:
    """ec itself, its vendor plugins, the standard library and installed packages: never
    the user's code."""
    paths = sysconfig.get_paths()
    dirs = {str(Path(__file__).resolve().parents[1])}
    dirs.update(_plugin_dirs())
    dirs.update(str(Path(paths[key]).resolve()) for key in ("stdlib", "platstdlib"))
    return tuple(sorted(f"{d}{os.sep}" for d in dirs))


def _plugin_dirs() -> set[str]:
    """The package folders of every ``ec.plugins`` entry point (the vendors: ec_mock,
    ec_cqg, a third party's). From wheels they are in site-packages already; from a
    workspace's sources (an editable install) they are not, and their frames were named
    as the user's line. Found without importing them."""
    dirs: set[str] = set()
    for entry in entry_points(group="ec.plugins"):
        top = entry.module.partition(".")[0]
        try:
            spec = find_spec(top)
        except (ImportError, ValueError):
            continue  # a broken plugin is the plugin host's to report
        if spec is not None and spec.submodule_search_locations:
            dirs.update(str(Path(d).resolve()) for d in spec.submodule_search_locations)
    return dirs


@cache
def is_user_file(filename: str) -> bool:
    """Whether ``filename`` is the user's (not ec's, the stdlib's or a package's)."""
    if filename.startswith("<"):
        return False
    resolved = str(Path(filename).resolve())
    if "site-packages" in resolved or "dist-packages" in resolved:
        return False
    return not resolved.startswith(_library_dirs())


class UserCodeError(TypeError):
    """The user's code gave ec what it cannot take, found in ec's code: ``at`` is the
    user's line to name (the traceback holds only ec's frames)."""

    def __init__(self, message: str, *, at: tuple[str, int] | None) -> None:
        super().__init__(message)
        self.at = at


def user_frame(exc: BaseException) -> tuple[str, int] | None:
    """The deepest frame of ``exc``'s traceback in the user's code, or ``None``."""
    if isinstance(exc, UserCodeError) and exc.at is not None:
        return exc.at
    found: tuple[str, int] | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.lineno is not None and is_user_file(frame.filename):
            found = (frame.filename, frame.lineno)
    return found


def as_typed(file: str) -> str:
    """``file`` relative to the working directory when inside it, as the user typed it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return file
