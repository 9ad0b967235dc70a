"""Where CQG's published descriptor set is, for the tests that compare our protocol against it.

The file is not part of the repository: its path comes from the ``EC_CQG_REFERENCE``
environment variable. ``.ci/run`` sets it and fails when the file is missing, so the oracle
never drops out of CI silently. Tests that need it carry ``@pytest.mark.cqg_reference``; on a
plain clone the variable is unset and those tests skip with a reason that says how to run
them. A variable that names a missing file is a mistake, not a skip: the tests that need it
fail naming the path.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

ENV_VAR = "EC_CQG_REFERENCE"
SKIP_REASON = (
    f"CQG reference descriptor set not configured: set {ENV_VAR} to the path of "
    "descriptor_set.binpb (.ci/run sets it to ../shared/reference/cqg_webapi/descriptor_set.binpb)"
)


def configured_path() -> Path | None:
    """The path the environment names, or ``None`` when the variable is unset or empty."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser().resolve() if value else None


#: The marker of a test that needs the reference; ``tests/conftest.py`` skips it when unset
#: and ``.ci/run`` selects these tests with ``-m cqg_reference``.
MARKER = "cqg_reference"


@cache
def reference_set() -> descriptor_pb2.FileDescriptorSet:
    """The parsed descriptor set; skips when unconfigured, fails when configured but missing."""
    path = configured_path()
    if path is None:
        pytest.skip(SKIP_REASON)
    if not path.is_file():
        pytest.fail(f"{ENV_VAR}={path}: no such file (unset the variable to skip these tests)")
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


@cache
def reference_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    for file in reference_set().file:
        pool.Add(file)
    return pool


def reference_class(full_name: str) -> type[Message]:
    """A message class built from CQG's descriptors, never from our generated code."""
    return message_factory.GetMessageClass(reference_pool().FindMessageTypeByName(full_name))
