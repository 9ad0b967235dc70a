"""The conformance kit against the ``mock`` vendor, loaded through the plugin host.

Two logons share one quiet venue (no background market): the kit's session trades
on ``KIT-TRADER``; the market control is a second session on ``KIT-HOUSE``, so the
only orders the kit's orders can meet are the ones the kit asks for. Every kit test
runs here, for two instruments with different tick grids, and none may be skipped:
the mock declares every capability the kit tests (see test_conformance_kit_runs).
"""

from __future__ import annotations

from conformance_support import MockKitFixtures
from ec_core.testing.conformance import VendorConformance


class TestMockConformance(MockKitFixtures, VendorConformance):
    pass
