"""The vendor factory: announces the vendor, checks settings, opens sessions."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import msgspec
from ec_core.secrets import Secret
from ec_core.session import StateListener
from ec_core.settings import convert_vendor_settings
from ec_core.vendor import Capability, Session, VendorInfo

from ec_echo.session import EchoSession

Text = Annotated[str, msgspec.Meta(min_length=1)]


class EchoSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[vendors.echo]`` in the settings file; ``password_env = "VAR"`` gives ``password``."""

    url: Annotated[str, msgspec.Meta(pattern="^wss?://")]
    user: Text
    password: Secret
    account_id: Text  # the front door (ec_core.connect) reads it too
    timeout: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0  # seconds per request


def _version() -> str:
    try:
        return version("ec-echo")
    except PackageNotFoundError:  # imported from a source tree, not installed
        return "0.0.0"


class EchoFactory:
    """Opens :class:`~ec_echo.session.EchoSession` objects. No I/O until one is entered."""

    def __init__(self) -> None:
        self.info = VendorInfo(
            name="echo", version=_version(), distribution="ec-echo",
            description="the json venue of `ec mock serve --dialect json`, over WebSocket",
            capabilities=frozenset({  # exactly what the sessions do: the kit holds you to each
                Capability.ORDERS, Capability.MODIFY, Capability.CANCEL_ALL, Capability.LIQUIDATE,
                Capability.MARKET_DATA, Capability.POSITIONS, Capability.HISTORICAL_ORDERS,
            }),
        )  # fmt: skip

    def open(
        self, settings: Mapping[str, Any], *, on_state: StateListener | None = None
    ) -> AbstractAsyncContextManager[Session]:
        # Check every value before anything connects: a ConfigError names the bad key.
        checked = convert_vendor_settings(settings, EchoSettings, vendor="echo")
        # on_state is the host's listener: every ec_on_session_state observer hears it.
        return EchoSession(checked, on_state=on_state)
