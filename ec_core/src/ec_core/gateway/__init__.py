"""Scale out: ``ec gateway`` owns the vendor session and the executor; workers talk to it
over Redis Streams (see ``docs/guides/scale-out.md``).

The wire (:mod:`~ec_core.gateway.wire`) and the stream layout
(:mod:`~ec_core.gateway.layout`) import nothing beyond ec-core; the gateway and its
clients need the ``redis`` package (``pip install ec-core[gateway]``).
"""

from ec_core.gateway.layout import GROUP, StreamLayout
from ec_core.gateway.wire import (
    WIRE_VERSION,
    GatewayRefusedError,
    Outcome,
    WireError,
    decode,
    encode,
)

__all__ = [
    "GROUP",
    "WIRE_VERSION",
    "GatewayRefusedError",
    "Outcome",
    "StreamLayout",
    "WireError",
    "decode",
    "encode",
]
