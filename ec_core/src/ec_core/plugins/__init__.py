"""Plugin system: hook specifications, markers, registries and the host that loads plugins."""

from ec_core.plugins.host import ENTRY_POINT_GROUP, PluginHost, PluginRecord, PluginStatus
from ec_core.plugins.markers import hookimpl, hookspec
from ec_core.plugins.parts import SessionParts
from ec_core.plugins.registry import VendorRegistry

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginHost",
    "PluginRecord",
    "PluginStatus",
    "SessionParts",
    "VendorRegistry",
    "hookimpl",
    "hookspec",
]
