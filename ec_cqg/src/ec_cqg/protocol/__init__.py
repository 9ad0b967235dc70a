"""Sans-I/O CQG WebAPI protocol layer: bytes in, typed messages and core objects out.

No sockets, no tasks, no clocks of its own: the async session (transport) and the
CQG-dialect server build on it. See ``docs/cqg/protocol.md``.

- :mod:`~ec_cqg.protocol.pb` — the generated message classes under their protocol names
- :mod:`~ec_cqg.protocol.codec` — frames ⇄ envelopes; bad frames raise ``ProtocolError``
- :mod:`~ec_cqg.protocol.prices` — exact scaled price ⇄ Decimal ⇄ ticks, quantities
- :mod:`~ec_cqg.protocol.timestamps` — base-time offsets and Timestamps ⇄ UTC ns
- :mod:`~ec_cqg.protocol.mapping` — CQG codes and messages ⇄ ec_core objects
- :mod:`~ec_cqg.protocol.correlation` — which server item answers which request (the router;
  its table, events and request extraction live in ``correlation_table``,
  ``correlation_events`` and ``correlation_requests`` and are re-exported here)
"""
