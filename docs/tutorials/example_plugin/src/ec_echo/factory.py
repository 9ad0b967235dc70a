"""The vendor factory: announces the vendor and opens sessions from settings."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_core.vendor import Capability, Session, VendorInfo

from ec_echo.session import EchoSession


def _version() -> str:
    try:
        return version("ec-echo")
    except PackageNotFoundError:  # imported from a source tree, not installed
        return "0.0.0"


class EchoFactory:
    """Opens :class:`EchoSession` objects. Does no I/O until a session is entered."""

    def __init__(self) -> None:
        self.info = VendorInfo(
            name="echo",
            version=_version(),
            distribution="ec-echo",
            capabilities=frozenset({Capability.ORDERS, Capability.MARKET_DATA}),
            description="accepts every order; quotes one fixed price",
        )

    def open(self, settings: Mapping[str, Any]) -> AbstractAsyncContextManager[Session]:
        # Check every value here, naming the key, before anything connects.
        password = settings.get("password")
        if not isinstance(password, Secret):
            raise ConfigError('set password_env = "VARIABLE"', path="vendors.echo.password")
        try:
            price = Decimal(str(settings.get("price", "100")))
        except InvalidOperation as exc:
            raise ConfigError("must be a decimal number", path="vendors.echo.price") from exc
        account_id = str(settings.get("account_id", "ECHO-1"))
        return EchoSession(password=password, price=price, account_id=account_id)
