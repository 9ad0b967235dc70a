"""The ``cqg`` vendor plugin (entry point ``ec.plugins: cqg``).

Registers the ``cqg`` vendor, the CQG field-rule validator, and (when ec-mock is
installed) the ``cqg`` wire dialect of ``ec mock serve``. Only ``ec_core`` is imported
here: websockets and protobuf load when a session opens, so ``ec plugins`` stays fast
and a missing dependency fails late with a clear message.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, final

from ec_core.plugins import hookimpl
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

    def open(self, settings: Mapping[str, Any]) -> AbstractAsyncContextManager[Session]:
        """Check ``settings`` (ConfigError names the key); connect and log on when entered."""
        from ec_cqg.client.factory import CqgVendorFactory

        return CqgVendorFactory().open(settings)


@hookimpl
def ec_register_vendors(vendors: VendorRegistry) -> None:
    vendors.add(LazyCqgFactory())


@hookimpl
def ec_register_validators(validators: ValidatorRegistry) -> None:
    from ec_cqg.rules import CqgFieldRules

    validators.add(CqgFieldRules())


@hookimpl(optionalhook=True)
def ec_mock_add_dialects(dialects: Any) -> None:
    """The CQG-dialect server of ec-mock (``ec mock serve --dialect cqg``)."""
    try:
        from ec_cqg.server import CqgDialect
    except ImportError:  # the server is not part of this build
        return
    dialects.add(CqgDialect())
