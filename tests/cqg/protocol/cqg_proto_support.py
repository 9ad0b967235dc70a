"""Shared helpers for the CQG protocol tests: our modules (the reference: ``cqg_reference``)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ec_cqg.protocol import pb
from google.protobuf import descriptor_pb2

REPO_ROOT = Path(__file__).resolve().parents[3]

OUR_MODULES: tuple[ModuleType, ...] = (
    pb.decimal,
    pb.shared_1,
    pb.strategy_definition_2,
    pb.user_session_2,
    pb.trading_account_2,
    pb.metadata_2,
    pb.market_data_2,
    pb.order_2,
    pb.trade_routing_2,
    pb.historical_2,
    pb.trading_session_2,
    pb.webapi_2,
)


def our_file_protos() -> list[descriptor_pb2.FileDescriptorProto]:
    protos = []
    for module in OUR_MODULES:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        protos.append(proto)
    return protos
