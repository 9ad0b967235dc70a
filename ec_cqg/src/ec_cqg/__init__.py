"""ec-cqg: the CQG WebAPI adapter of ec.

The names below are what users reach for; each loads its module on first use (the
plugin entry point imports this package, and loading plugins should not pay for the
protobuf client). Most users need none of them: ``ec_core.connect("cqg")``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ec_cqg.client import CqgSession, CqgSettings, parse_cqg_settings
    from ec_cqg.compat import ConnectCQG, CQGFormatCheck, CQGLiveOrder, MonitorTradeCQG
    from ec_cqg.server import CqgDialect

__all__ = [
    "CQGFormatCheck",
    "CQGLiveOrder",
    "ConnectCQG",
    "CqgDialect",
    "CqgSession",
    "CqgSettings",
    "MonitorTradeCQG",
    "parse_cqg_settings",
]

_HOME = {
    "CqgSession": "ec_cqg.client",
    "CqgSettings": "ec_cqg.client",
    "parse_cqg_settings": "ec_cqg.client",
    "CQGFormatCheck": "ec_cqg.compat",
    "CQGLiveOrder": "ec_cqg.compat",
    "ConnectCQG": "ec_cqg.compat",
    "MonitorTradeCQG": "ec_cqg.compat",
    "CqgDialect": "ec_cqg.server",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'ec_cqg' has no attribute {name!r}")
