"""The ``cqg`` vendor plugin (entry point ``ec.plugins: cqg``).

Registers the ``cqg`` vendor, the CQG field-rule validator, and (when ec-mock is
installed) the ``cqg`` wire dialect of ``ec mock serve``. Only ``ec_core`` is imported
here: websockets and protobuf load when a session opens, so ``ec plugins`` stays fast
and a missing dependency fails late with a clear message.

Session state observers: the host passes its listener to ``LazyCqgFactory.open``
(``on_state``), and the session's lifecycle calls it, so every ``ec_on_session_state``
observer hears CONNECTING, LOGGED_ON, RECONNECTING, CLOSING and CLOSED. A session
opened straight from the factory without ``on_state`` notifies nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, final

from ec_core.plugins import hookimpl
from ec_core.session import StateListener
from ec_core.vendor import Capability, Session, VendorInfo

if TYPE_CHECKING:
    from ec_core.plugins import VendorRegistry
    from ec_core.validation import ValidatorRegistry

__all__ = ["CQG_INFO", "LazyCqgFactory"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ec-cqg")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


CQG_INFO = VendorInfo(
    name="cqg",
    version=_version(),
    distribution="ec-cqg",
    capabilities=frozenset(Capability),
    description="CQG WebAPI over WebSocket (protocol 2.230).",
)


@final
class LazyCqgFactory:
    """The registered factory: imports the client (websockets, protobuf) in :meth:`open`."""

    @property
    def info(self) -> VendorInfo:
        return CQG_INFO

    def open(
        self, settings: Mapping[str, Any], *, on_state: StateListener | None = None
    ) -> AbstractAsyncContextManager[Session]:
        """Check ``settings`` (ConfigError names the key; no I/O); connect and log on when
        entered. ``on_state(old, new)`` hears every session state change."""
        from ec_cqg.client.config import parse_cqg_settings
        from ec_cqg.client.session import CqgSession

        return CqgSession(parse_cqg_settings(settings), vendor=CQG_INFO.name, on_state=on_state)


@hookimpl
def ec_register_vendors(vendors: VendorRegistry) -> None:
    vendors.add(LazyCqgFactory())


@hookimpl
def ec_register_validators(validators: ValidatorRegistry) -> None:
    from ec_cqg.rules import CqgFieldRules

    validators.add(CqgFieldRules(), vendor=CQG_INFO.name)


@hookimpl(optionalhook=True)
def ec_mock_add_dialects(dialects: Any) -> None:
    """The CQG-dialect server of ec-mock (``ec mock serve --dialect cqg``)."""
    try:
        from ec_cqg.server import CqgDialect
    except ImportError:  # the server is not part of this build
        return
    dialects.add(CqgDialect())
