"""Wire recording: every frame of a session with its direction and UTC time, to a file.

Format (little-endian, one record per frame): ``b"I"`` (in, server → client) or
``b"O"`` (out), ``uint64`` UTC ns, ``uint32`` length, the frame bytes. The file starts
with the magic ``ECCQGREC1``. Secrets never reach the file: the password, one-time
password and tokens of a logon, and the session token of a restore or a logon result,
are recorded as ``<redacted>`` (:mod:`ec_cqg.protocol.redact`). The file is still
private, mode 0600, including one that existed before (its mode is fixed, or the
recording is refused).

:func:`read_recording` reads one back; :func:`replay_client_frames` sends the client
frames of a recording to a server (e.g. the CQG-dialect server of ec-mock) for a
post-mortem or a regression test, and returns what the server answered.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final, Literal, final

import msgspec
from ec_core.clock import Clock
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from google.protobuf.message import DecodeError

from ec_cqg.protocol.pb import ClientMsg, ServerMsg
from ec_cqg.protocol.redact import REDACTED, redacted

__all__ = [
    "MAGIC",
    "RecordedFrame",
    "WireRecorder",
    "read_recording",
    "replay_client_frames",
]

MAGIC: Final = b"ECCQGREC1"
_HEADER: Final = struct.Struct("<cQI")
# Logon / restore (client) and their results (server) are fields 100 and 101 of the
# envelope: a frame without either tag cannot hold a secret, and costs one scan.
_SESSION_TAGS: Final = (b"\xa2\x06", b"\xaa\x06")
Direction = Literal["in", "out"]


class RecordedFrame(msgspec.Struct, frozen=True, kw_only=True):
    direction: Direction
    ts_ns: int
    data: bytes


@final
class WireRecorder:
    """Appends frames to ``path``. Writes go straight to the OS buffer (no fsync)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self._clock = clock
        self._file: IO[bytes] = os.fdopen(_open_private(path), "wb")
        self._file.write(MAGIC)
        self.frames = 0

    def record(self, direction: Direction, data: bytes) -> None:
        if self._file.closed:
            return
        if _SESSION_TAGS[0] in data or _SESSION_TAGS[1] in data:
            data = _redact(direction, data)
        tag = b"I" if direction == "in" else b"O"
        self._file.write(_HEADER.pack(tag, self._clock.now_ns(), len(data)))
        self._file.write(data)
        self.frames += 1

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def _open_private(path: Path) -> int:
    """Open ``path`` for a new recording, mode 0600: an existing file keeps its mode on
    open, so it is fixed before a byte is written, or the recording is refused."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot record to {path}: {exc.strerror or exc} (a symlink is refused)",
            path="vendors.cqg.record_path",
        ) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(
                f"cannot record to {path}: not a regular file", path="vendors.cqg.record_path"
            )
        try:
            os.fchmod(fd, 0o600)
            os.ftruncate(fd, 0)
        except OSError as exc:
            raise ConfigError(
                f"refusing to record to {path}: it cannot be made private (0600): {exc}",
                path="vendors.cqg.record_path",
            ) from exc
    except BaseException:
        os.close(fd)
        raise
    return fd


def _redact(direction: Direction, data: bytes) -> bytes:
    """The frame with its secrets masked (itself if it holds none)."""
    kind = ClientMsg if direction == "out" else ServerMsg
    try:
        message = kind.FromString(data)
    except DecodeError:
        return data
    clean = redacted(message)
    return data if clean is message else clean.SerializeToString()


def read_recording(path: Path) -> Iterator[RecordedFrame]:
    """The frames of a recording in order; a truncated last record is ignored."""
    with open(path, "rb") as file:
        if file.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not an ec-cqg wire recording")
        while True:
            head = file.read(_HEADER.size)
            if len(head) < _HEADER.size:
                return
            tag, ts_ns, size = _HEADER.unpack(head)
            data = file.read(size)
            if len(data) < size:
                return
            yield RecordedFrame(direction="in" if tag == b"I" else "out", ts_ns=ts_ns, data=data)


async def replay_client_frames(
    path: Path,
    url: str,
    *,
    password: Secret | None = None,
    settle_s: float = 0.5,
    max_frames: int = 100_000,
) -> list[bytes]:
    """Send the client frames of ``path`` to ``url`` in order; return the server's frames.

    The recording holds no password: the logon is sent with ``password`` (the replay
    server's), or as recorded (``<redacted>``) for a server that does not check it.
    After each client frame, frames the server sends are collected until it is quiet
    for ``settle_s``. Loopback only.
    """
    import anyio
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from ec_cqg.client.config import check_url

    check_url(url, allow_insecure=False)
    received: list[bytes] = []
    async with connect(url, compression=None, ping_interval=None, max_size=None) as ws:
        for frame in read_recording(path):
            if frame.direction != "out":
                continue
            await ws.send(_with_password(frame.data, password))
            while len(received) < max_frames:
                with anyio.move_on_after(settle_s) as scope:
                    try:
                        data = await ws.recv()
                    except ConnectionClosed:
                        return received
                if scope.cancelled_caught:
                    break
                if isinstance(data, bytes):
                    received.append(data)
    return received


def _with_password(data: bytes, password: Secret | None) -> bytes:
    """A recorded logon frame with ``password`` in place of the redacted one."""
    if password is None or _SESSION_TAGS[0] not in data:
        return data
    message = ClientMsg.FromString(data)
    if not message.HasField("logon") or message.logon.password != REDACTED:
        return data
    message.logon.password = password.reveal()
    return message.SerializeToString()
