"""The generated protobuf modules under the protocol's own package names.

Import messages from here, not from ``ec_cqg._proto`` (whose layout follows protoc)::

    from ec_cqg.protocol.pb import order_2, webapi_2
    msg = webapi_2.ClientMsg(order_requests=[order_2.OrderRequest(request_id=1)])

Protobuf types never leave the ``ec_cqg`` package: the session turns them into core
objects with :mod:`ec_cqg.protocol.mapping`.
"""

from __future__ import annotations

from ec_cqg._proto.common import decimal_pb2 as decimal
from ec_cqg._proto.common import shared_1_pb2 as shared_1
from ec_cqg._proto.WebAPI import historical_2_pb2 as historical_2
from ec_cqg._proto.WebAPI import market_data_2_pb2 as market_data_2
from ec_cqg._proto.WebAPI import metadata_2_pb2 as metadata_2
from ec_cqg._proto.WebAPI import order_2_pb2 as order_2
from ec_cqg._proto.WebAPI import strategy_definition_2_pb2 as strategy_definition_2
from ec_cqg._proto.WebAPI import trade_routing_2_pb2 as trade_routing_2
from ec_cqg._proto.WebAPI import trading_account_2_pb2 as trading_account_2
from ec_cqg._proto.WebAPI import trading_session_2_pb2 as trading_session_2
from ec_cqg._proto.WebAPI import user_session_2_pb2 as user_session_2
from ec_cqg._proto.WebAPI import webapi_2_pb2 as webapi_2

ClientMsg = webapi_2.ClientMsg
ServerMsg = webapi_2.ServerMsg

#: The protocol version our ``.proto`` subset was written from; sent in ``Logon``.
PROTOCOL_VERSION_MAJOR: int = webapi_2.PROTOCOL_VERSION_MAJOR
PROTOCOL_VERSION_MINOR: int = webapi_2.PROTOCOL_VERSION_MINOR

__all__ = [
    "PROTOCOL_VERSION_MAJOR",
    "PROTOCOL_VERSION_MINOR",
    "ClientMsg",
    "ServerMsg",
    "decimal",
    "historical_2",
    "market_data_2",
    "metadata_2",
    "order_2",
    "shared_1",
    "strategy_definition_2",
    "trade_routing_2",
    "trading_account_2",
    "trading_session_2",
    "user_session_2",
    "webapi_2",
]
