"""Load a Python file that is not an importable module (docs generators, a tutorial's tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_file_module(name: str, path: Path, *, register: bool = False) -> ModuleType:
    """Execute ``path`` as module ``name``; ``register`` puts it in ``sys.modules`` first
    (for a file whose dataclasses or pickling look their module up by name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
