"""``ec mock serve --dialect json`` as a real subprocess: it prints its URL, a client logs
on with the served credentials and trades, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import pytest
from jsonwire_support import client
from mock_serve import serve_subprocess

pytestmark = pytest.mark.anyio


async def test_ec_mock_serve_json_serves_the_engine() -> None:
    with serve_subprocess("--dialect", "json", "--no-market", "--user", "u", password="pw") as (
        _lines,
        url,
    ):
        assert url.startswith("ws://127.0.0.1:")
        async with client(url, user="u", password="pw") as session:
            assert (await session.ask("symbol", sym="EP"))["tick"] == "0.25"
            assert (await session.ask("account", acct="MOCK-1"))["ev"] == "snapshot_end"
        async with client(url, password="") as stranger:
            refused = await stranger.ask("logon", user="u", password="nope")
            assert refused["code"] == "LOGON_REFUSED"
