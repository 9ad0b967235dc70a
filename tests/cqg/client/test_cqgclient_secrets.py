"""Secrets on the CQG logon path: never in a recording, never in a repr.

A wire recording is created 0600 even over an existing 0644 file, holds no
password (and no session token), and still replays: the replay is given the
replay server's password. Every object the client keeps after a logon, and the
pending logon request itself, prints no secret.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cqgclient_support import PASSWORD, FakeCqgServer, fake_server, settings_for
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_cqg.client import CqgSession
from ec_cqg.client.recorder import read_recording, replay_client_frames
from ec_cqg.protocol.correlation import Answer, ItemKind, PendingRequest, RequestKind
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, user_session_2
from google.protobuf.message import Message

pytestmark = pytest.mark.anyio


@pytest.fixture
async def server() -> AsyncIterator[FakeCqgServer]:
    async with fake_server() as srv:
        yield srv


async def test_a_recording_over_an_existing_0644_file_is_0600_and_holds_no_password(
    server: FakeCqgServer, tmp_path: Path
) -> None:
    path = tmp_path / "wire.rec"
    path.write_bytes(b"old contents")
    os.chmod(path, 0o644)
    async with CqgSession(settings_for(server, record_path=str(path))) as session:
        await session.resolve("EP")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    data = path.read_bytes()
    assert PASSWORD.encode() not in data
    assert b"old contents" not in data
    frames = list(read_recording(path))
    logon = ClientMsg.FromString(frames[0].data).logon
    assert logon.user_name  # the rest of the logon is kept for the post-mortem
    assert logon.password == "<redacted>"
    result = ServerMsg.FromString(frames[1].data).logon_result
    assert result.result_code == 0
    assert result.session_token == "<redacted>"  # a session token is a credential too

    # the replay does not need the recorded password: it is given the server's
    logons = server.logons
    answers = await replay_client_frames(path, server.url, password=Secret(PASSWORD), settle_s=0.2)
    assert server.logons == logons + 1
    assert ServerMsg.FromString(answers[0]).logon_result.result_code == 0


async def test_a_recording_to_a_symlink_is_refused(server: FakeCqgServer, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.rec"
    target.write_bytes(b"")
    link = tmp_path / "wire.rec"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="cannot record to"):
        async with CqgSession(settings_for(server, record_path=str(link))):
            pass


def test_a_pending_logon_and_its_answer_print_no_secret() -> None:
    logon = user_session_2.Logon(user_name="trader", password=PASSWORD, access_token="acc-tok")
    pending = PendingRequest(kind=RequestKind.LOGON, key="logon", deadline_ns=0, request=logon)
    result = user_session_2.LogonResult(result_code=0, session_token="tok-123")
    answer = Answer(request=pending, kind=ItemKind.LOGON_RESULT, item=result, final=True)
    for text in (repr(pending), str(pending), repr(answer)):
        assert PASSWORD not in text
        assert "acc-tok" not in text
        assert "tok-123" not in text
        assert "trader" in text  # what is not secret still shows
    assert logon.password == PASSWORD  # the message itself is untouched


def _reachable(root: object, limit: int = 20_000) -> Iterator[object]:
    """Every object reachable from ``root`` through attributes and containers."""
    seen: set[int] = set()
    queue: deque[object] = deque([root])
    while queue and len(seen) < limit:
        obj = queue.popleft()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | type):
            continue
        seen.add(id(obj))
        yield obj
        children: list[Any] = []
        if isinstance(obj, dict):
            children += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset | deque):
            children += list(obj)
        elif isinstance(obj, Message):
            continue  # protobuf's own repr: we never print these, we keep them
        else:
            children += list(getattr(obj, "__dict__", {}).values())
            for klass in type(obj).__mro__:
                for name in getattr(klass, "__slots__", ()):
                    if isinstance(name, str) and hasattr(obj, name):
                        children.append(getattr(obj, name))
        queue.extend(children)


async def test_no_object_on_the_logon_path_prints_the_password(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        await session.resolve("EP")
        ours = [
            obj
            for obj in _reachable(session)
            if type(obj).__module__.startswith(("ec_core", "ec_cqg"))
            and not type(obj).__module__.startswith("ec_cqg._proto")
        ]
        assert len(ours) > 20  # the walk reached the protocol core, channels, settings…
        token = f"token{server.logons}"  # the fake server's session token
        for obj in ours:
            text = repr(obj)
            assert PASSWORD not in text, type(obj)
            assert token not in text, type(obj)
