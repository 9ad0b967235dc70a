"""The CQG client's Sans-I/O protocol core; see :mod:`.protocol`."""

from ec_cqg.client.core.calls import Call
from ec_cqg.client.core.protocol import CqgClientProtocol
from ec_cqg.client.core.sinks import EventSink, ListSink

__all__ = ["Call", "CqgClientProtocol", "EventSink", "ListSink"]
