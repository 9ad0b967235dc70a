"""What ``ec plugins`` shows for one plugin: its status, hooks, warnings and error.

:class:`~ec_core.plugins.host.PluginHost` records one :class:`PluginRecord` per
plugin it loads or fails; the records are plain data, kept apart from the host
that makes them (the CLI and tests read them; both names are re-exported by
:mod:`ec_core.plugins.host` and :mod:`ec_core.plugins`).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

__all__ = ["PluginRecord", "PluginStatus"]


class PluginStatus(StrEnum):
    LOADED = "loaded"
    FAILED = "failed"


class PluginRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``ec plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    status: PluginStatus
    hooks: tuple[str, ...] = ()
    error: str = ""
    builtin: bool = False
    warnings: tuple[str, ...] = ()
    parent: str = ""  # the plugin whose ``ec_addhooks`` registered this one
