"""The pluggy markers of the ``ec`` project. Plugins decorate their hooks with :data:`hookimpl`."""

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "ec"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
