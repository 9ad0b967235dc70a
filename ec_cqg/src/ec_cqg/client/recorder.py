"""Wire recording: every frame of a session with its direction and UTC time, to a file.

Format (little-endian, one record per frame): ``b"I"`` (in, server → client) or
``b"O"`` (out), ``uint64`` UTC ns, ``uint32`` length, the frame bytes. The file starts
with the magic ``ECCQGREC1``. Credentials travel in the logon frame; a recording is as
secret as the password and is written with mode 0600.

:func:`read_recording` reads one back; :func:`replay_client_frames` sends the client
frames of a recording to a server (e.g. the CQG-dialect server of ec-mock) for a
post-mortem or a regression test, and returns what the server answered.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final, Literal, final

import msgspec
from ec_core.clock import Clock

__all__ = [
    "MAGIC",
    "RecordedFrame",
    "WireRecorder",
    "read_recording",
    "replay_client_frames",
]

MAGIC: Final = b"ECCQGREC1"
_HEADER: Final = struct.Struct("<cQI")
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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._file.write(MAGIC)
        self.frames = 0

    def record(self, direction: Direction, data: bytes) -> None:
        if self._file.closed:
            return
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
    path: Path, url: str, *, settle_s: float = 0.5, max_frames: int = 100_000
) -> list[bytes]:
    """Send the client frames of ``path`` to ``url`` in order; return the server's frames.

    After each client frame, frames the server sends are collected until it is quiet
    for ``settle_s``. Loopback only: recordings hold credentials.
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
            await ws.send(frame.data)
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
