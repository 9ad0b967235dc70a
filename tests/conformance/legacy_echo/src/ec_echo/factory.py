"""The vendor factory: announces the vendor and opens sessions from settings."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_core.vendor import Capability, Session, VendorInfo

from ec_echo.session import EchoSession
from ec_echo.venue import EchoVenue


def _version() -> str:
    try:
        return version("ec-echo")
    except PackageNotFoundError:  # imported from a source tree, not installed
        return "0.0.0"


class EchoFactory:
    """Opens :class:`EchoSession` objects, all on one in-memory venue. No I/O until entered."""

    def __init__(self) -> None:
        self.info = VendorInfo(
            name="echo",
            version=_version(),
            distribution="ec-echo",
            # Declare exactly what the sessions do: the conformance kit holds you to each.
            capabilities=frozenset(
                {
                    Capability.ORDERS,
                    Capability.MODIFY,
                    Capability.CANCEL_ALL,
                    Capability.LIQUIDATE,
                    Capability.MARKET_DATA,
                    Capability.POSITIONS,
                    Capability.HISTORICAL_ORDERS,
                }
            ),
            description="an in-memory venue: orders rest in a book and fill when they cross",
        )
        self.venue = EchoVenue()  # every session of this factory trades on it, like one exchange

    def open(self, settings: Mapping[str, Any]) -> AbstractAsyncContextManager[Session]:
        # Check every value here, naming the key, before anything connects.
        password = settings.get("password")
        if not isinstance(password, Secret):
            raise ConfigError('set password_env = "VARIABLE"', path="vendors.echo.password")
        account_id = settings.get("account_id", "ECHO-1")
        if not isinstance(account_id, str) or not account_id:
            raise ConfigError("must be a non-empty string", path="vendors.echo.account_id")
        return EchoSession(self.venue, password=password, account_id=account_id)
