"""Shared helpers for the CQG protocol tests: the reference descriptor pool and our modules."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

from ec_cqg.protocol import pb
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

REPO_ROOT = Path(__file__).resolve().parents[3]
#: CI lays ``shared/`` beside the clone; a developer's tree has it beside ``main/``.
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference" / "cqg_webapi"

OUR_MODULES: tuple[ModuleType, ...] = (
    pb.decimal,
    pb.shared_1,
    pb.user_session_2,
    pb.trading_account_2,
    pb.metadata_2,
    pb.market_data_2,
    pb.order_2,
    pb.trade_routing_2,
    pb.webapi_2,
)


@cache
def reference_set() -> descriptor_pb2.FileDescriptorSet:
    path = REFERENCE_DIR / "descriptor_set.binpb"
    assert path.is_file(), (
        f"protocol reference not found at {path} (expected ../shared beside repo)"
    )
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


@cache
def reference_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    for file in reference_set().file:
        pool.Add(file)
    return pool


def reference_class(full_name: str) -> type[Message]:
    return message_factory.GetMessageClass(reference_pool().FindMessageTypeByName(full_name))


def our_file_protos() -> list[descriptor_pb2.FileDescriptorProto]:
    protos = []
    for module in OUR_MODULES:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        protos.append(proto)
    return protos
