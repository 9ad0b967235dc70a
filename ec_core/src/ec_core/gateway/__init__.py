"""Scale out: ``ec gateway`` owns the vendor session and the executor; workers talk to it
over Redis Streams (see ``docs/guides/scale-out.md``).

The wire (:mod:`~ec_core.gateway.wire`) and the stream layout
(:mod:`~ec_core.gateway.layout`) import nothing beyond ec-core; the gateway and its
clients need the ``redis`` package (``pip install ec-core[gateway]``): each way in asks
:func:`require_redis` first, so its absence is a message naming the extra.
"""

from importlib.util import find_spec

from ec_core.errors import ConfigError
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
    "require_redis",
]


def require_redis(who: str) -> None:
    """Raise a :class:`~ec_core.errors.ConfigError` naming the ``gateway`` extra when the
    ``redis`` package is not installed (``who``: the command or call that needs it)."""
    if find_spec("redis") is None:
        raise ConfigError(f"{who} needs the redis package: pip install 'ec-core[gateway]'")
