"""Where a host is: the one test of "this machine only" that clients and servers share.

A client refuses to send a password in clear text beyond this machine, and a server
refuses to listen in clear text beyond it; both ask :func:`is_loopback`.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``; false for any other name or address."""
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
