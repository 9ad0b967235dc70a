"""Where in the user's code an exception came from: ``file:line`` of their deepest frame.

A traceback through ec's engine tells a strategy author nothing; the line of their
own ``generate()`` or factory does. Frames of ec itself, the standard library and
installed packages are skipped; what is left is the user's code.
"""

from __future__ import annotations

import sysconfig
import traceback
from functools import cache
from pathlib import Path

__all__ = ["UserCodeError", "as_typed", "is_user_file", "user_frame"]


@cache
def _library_dirs() -> tuple[str, ...]:
    """ec itself, the standard library and installed packages: never the user's code."""
    paths = sysconfig.get_paths()
    dirs = {str(Path(__file__).resolve().parents[1])}
    dirs.update(str(Path(paths[key]).resolve()) for key in ("stdlib", "platstdlib"))
    return tuple(sorted(dirs))


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
