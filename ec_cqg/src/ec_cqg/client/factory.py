"""The ``cqg`` :class:`~ec_core.vendor.VendorFactory`: checks settings, opens sessions."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, final

from ec_core.vendor import VendorInfo

from ec_cqg.client.config import parse_cqg_settings
from ec_cqg.client.session import CqgSession
from ec_cqg.plugin import CQG_INFO

__all__ = ["CQG_INFO", "CqgVendorFactory"]


@final
class CqgVendorFactory:
    """Opens :class:`CqgSession` objects; ``open`` checks the settings and does no I/O."""

    @property
    def info(self) -> VendorInfo:
        return CQG_INFO

    def open(self, settings: Mapping[str, Any]) -> AbstractAsyncContextManager[CqgSession]:
        """Raise :class:`~ec_core.errors.ConfigError` naming a bad key; connect on enter."""
        return CqgSession(parse_cqg_settings(settings))
