"""The plugin module named by the ``ec.plugins`` entry point.

It imports only ``ec_core`` at top level, so ``ec plugins`` stays fast; the
vendor's own modules are imported inside the hook.
"""

from __future__ import annotations

from ec_core.plugins import VendorRegistry, hookimpl


@hookimpl
def ec_register_vendors(vendors: VendorRegistry) -> None:
    from ec_echo.factory import EchoFactory

    vendors.add(EchoFactory())
