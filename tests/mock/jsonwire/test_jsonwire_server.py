"""The ``json`` dialect over a real WebSocket: logon, symbols, orders, fills, the account
subscription (snapshot, ``snapshot_end``, live), quotes, and an ``error`` naming the field
for every kind of bad input, with the connection still answering afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ec_mock.jsonwire import JsonDialect
from ec_mock.vendor import MockVenue
from jsonwire_support import Client, client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.anyio

BUY = {"acct": "A-1", "sym": "EP", "side": "B", "qty": 2, "type": "LMT", "px": "4500.25"}


async def test_a_refused_logon_is_answered_naming_the_password_then_closed(url: str) -> None:
    async with connect(url) as websocket:
        bare = Client(websocket)
        answer = await bare.ask("logon", user="u", password="wrong")
        assert answer == {
            "ev": "error",
            "req": 1,
            "code": "LOGON_REFUSED",
            "field": "password",
            "text": "user or password refused",
        }
        with pytest.raises(ConnectionClosed):
            await websocket.recv()


async def test_requests_before_logon_are_refused_and_the_line_stays(url: str) -> None:
    async with client(url, password="") as bare:
        answer = await bare.ask("symbol", sym="EP")
        assert (answer["code"], answer["field"]) == ("NOT_LOGGED_ON", "op")
        assert (await bare.ask("logon", user="u", password="pw"))["accounts"] == ["A-1", "A-2"]
        again = await bare.ask("logon", user="u", password="pw")
        assert again["code"] == "ALREADY_LOGGED_ON"


async def test_a_symbol_resolves_to_its_contract_with_prices_as_strings(url: str) -> None:
    async with client(url) as venue:
        answer = await venue.ask("symbol", sym="EP")
        assert answer["ev"] == "symbol"
        assert (answer["tick"], answer["mult"], answer["ccy"]) == ("0.25", "50", "USD")
        unknown = await venue.ask("symbol", sym="NOPE")
        assert (unknown["code"], unknown["field"]) == ("UNKNOWN_SYMBOL", "sym")


BAD_REQUESTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown op", {"op": "teleport"}, "UNKNOWN_OP", "op"),
    ("no op", {}, "BAD_FIELD", "op"),
    ("missing field", {"op": "symbol"}, "BAD_FIELD", "sym"),
    ("unknown field", {"op": "symbol", "sym": "EP", "colour": "red"}, "BAD_FIELD", "colour"),
    ("qty zero", {"op": "new", "id": "q0", **BUY, "qty": 0}, "BAD_FIELD", "qty"),
    ("qty too big", {"op": "new", "id": "q1", **BUY, "qty": 10**7}, "BAD_FIELD", "qty"),
    ("qty a string", {"op": "new", "id": "q2", **BUY, "qty": "2"}, "BAD_FIELD", "qty"),
    ("price a float", {"op": "new", "id": "p0", **BUY, "px": 4500.25}, "BAD_FIELD", "px"),
    ("price not decimal", {"op": "new", "id": "p1", **BUY, "px": "45e2"}, "BAD_FIELD", "px"),
    ("side unknown", {"op": "new", "id": "s0", **BUY, "side": "X"}, "BAD_FIELD", "side"),
    ("type unknown", {"op": "new", "id": "t0", **BUY, "type": "ICE"}, "BAD_FIELD", "type"),
    ("empty id", {"op": "new", "id": "", **BUY}, "BAD_FIELD", "id"),
    ("foreign account", {"op": "new", "id": "a0", **BUY, "acct": "HOUSE"},
     "UNKNOWN_ACCOUNT", "acct"),
    ("since after until", {"op": "orders", "acct": "A-1", "since": 5, "until": 1},
     "BAD_FIELD", "until"),
    ("negative since", {"op": "orders", "acct": "A-1", "since": -1}, "BAD_FIELD", "since"),
    ("quotes of nothing", {"op": "quotes", "sym": "NOPE"}, "UNKNOWN_SYMBOL", "sym"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [pytest.param(f, c, n, id=name) for name, f, c, n in BAD_REQUESTS],
)
async def test_a_bad_request_is_answered_with_an_error_naming_the_field(
    url: str, venue: MockVenue, fields: dict[str, Any], code: str, field: str
) -> None:
    async with client(url) as session:
        await session.send_raw(json.dumps({"req": 77, **fields}))
        answer = await session.wait(lambda m: m.get("req") == 77, "the error")
        assert (answer["ev"], answer["code"], answer["field"]) == ("error", code, field), answer
        assert (await session.ask("symbol", sym="EP"))["ev"] == "symbol"  # still answering
    assert not venue.exchange.open_orders("A-1")  # nothing reached the engine


@pytest.mark.parametrize(
    "frame", ["not json", "[1, 2]", '{"req": "seven", "op": "symbol"}', b"\xff\xfe", "42"]
)
async def test_a_frame_that_is_not_a_request_is_answered_without_a_req(
    url: str, dialect: JsonDialect, frame: str | bytes
) -> None:
    async with client(url) as session:
        await session.send_raw(frame)
        answer = await session.wait(lambda m: m.get("ev") == "error", "the error")
        assert answer["req"] is None
        assert answer["code"] in ("BAD_JSON", "BAD_FIELD")
        assert (await session.ask("symbol", sym="EP"))["ev"] == "symbol"
    core = dialect.servers[0].core
    assert core is not None
    assert core.counters["bad_frame"] == 1


async def test_orders_fill_against_another_logon_with_snapshot_then_live(url: str) -> None:
    async with client(url) as trader, client(url) as house:
        end = await trader.ask("account", acct="A-1")
        assert end["ev"] == "snapshot_end"
        assert [m["ev"] for m in trader.seen] == ["logon", "account", "snapshot_end"]
        assert (await house.ask("account", acct="A-2"))["ev"] == "snapshot_end"

        assert (await trader.ask("new", id="b1", **BUY))["ev"] == "ok"
        accepted = await trader.order("b1", "accepted")
        assert (accepted["state"], accepted["px"], accepted["side"]) == ("open", "4500.25", "B")

        sell = {**BUY, "acct": "A-2", "side": "S", "qty": 1, "px": "4500.00"}
        assert (await house.ask("new", id="s1", **sell))["ev"] == "ok"
        fill = await trader.order("b1", "fill")
        assert fill["state"] == "partial"
        assert fill["fill"]["qty"] == 1
        assert fill["fill"]["px"] == "4500.25"  # the resting order's price
        position = await trader.wait(lambda m: m["ev"] == "position", "the position")
        assert (position["qty"], position["avg_px"]) == (1, "4500.25")
        assert (await house.order("s1", "fill"))["state"] == "filled"

        assert (await trader.ask("modify", id="b2", orig="b1", acct="A-1", sym="EP", qty=3))[
            "ev"
        ] == "ok"
        modified = await trader.order("b2", "modified")
        assert (modified["orig"], modified["qty"], modified["filled"]) == ("b1", 3, 1)

        await trader.ask("cancel", id="b3", orig="b2", acct="A-1", sym="EP")
        assert (await trader.order("b3", "cancelled"))["state"] == "cancelled"

        await trader.ask("cancel", id="b4", orig="gone", acct="A-1", sym="EP")
        refused = await trader.order("b4", "rejected")
        assert (refused["of"], bool(refused["code"])) == ("cancel", True)

        # a second subscription replays the account as it stands
        before = len(trader.seen)
        await trader.ask("account", acct="A-1")
        replay = [(m["ev"], m.get("qty")) for m in trader.seen[before:]]
        assert replay == [("account", None), ("position", 1), ("snapshot_end", None)]
        assert {m["acct"] for m in house.seen if m["ev"] == "order"} == {"A-2"}


async def test_the_engine_rejects_what_only_it_can_judge_as_an_order_event(url: str) -> None:
    async with client(url) as trader:
        await trader.ask("account", acct="A-1")
        await trader.ask("new", id="off", **{**BUY, "px": "4500.10"})  # off the 0.25 grid
        rejected = await trader.order("off", "rejected")
        assert rejected["state"] == "rejected"
        assert rejected["code"]


async def test_quotes_come_as_decimal_strings_and_stop_on_unquotes(url: str) -> None:
    async with client(url) as trader, client(url) as watcher:
        assert (await watcher.ask("quotes", sym="EP"))["ev"] == "ok"
        empty = await watcher.wait(lambda m: m["ev"] == "quote", "the snapshot quote")
        assert (empty["bid"], empty["ask"]) == (None, None)  # the book is empty
        await trader.ask("new", id="q1", **BUY)
        quote = await watcher.wait(lambda m: m["ev"] == "quote", "a quote")
        assert (quote["bid"], quote["bid_qty"], quote["ask"]) == ("4500.25", 2, None)
        assert (await watcher.ask("unquotes", sym="EP"))["ev"] == "ok"
        await trader.ask("new", id="q2", **{**BUY, "px": "4500.50"})
        answer = await watcher.ask("symbol", sym="EP")
        assert answer["ev"] == "symbol"
        assert [m for m in watcher.seen if m["ev"] == "quote"] == [empty, quote]


async def test_liquidate_cancels_and_closes_at_market(url: str) -> None:
    async with client(url) as trader, client(url) as house:
        await trader.ask("account", acct="A-1")
        resting = {**BUY, "acct": "A-2", "side": "B", "qty": 5, "px": "4499.00"}
        await house.ask("new", id="h1", **{**resting, "side": "S", "px": "4500.00"})
        await trader.ask("new", id="t1", **{**BUY, "px": "4500.00"})
        await trader.order("t1", "fill")
        await house.ask("new", id="h2", **resting)
        await trader.ask("new", id="t2", **{**BUY, "px": "4490.00"})
        assert (await trader.ask("liquidate", id="liq", acct="A-1"))["ev"] == "ok"
        await trader.order("t2", "cancelled")
        flat = await trader.wait(
            lambda m: m["ev"] == "position" and m["qty"] == 0, "the position closed"
        )
        assert flat["sym"] == "EP"


async def test_orders_answers_history_and_one_order(url: str, venue: MockVenue) -> None:
    async with client(url) as trader:
        await trader.ask("new", id="o1", **BUY)
        await trader.ask("cancel_all", acct="A-1")
        everything = await trader.ask("orders", acct="A-1")
        assert [o["id"] for o in everything["orders"]] == ["o1"]
        one = await trader.ask("orders", acct="A-1", id="o1")
        assert [o["state"] for o in one["orders"]] == ["cancelled"]
        none = await trader.ask("orders", acct="A-1", id="never")
        assert none["orders"] == []


async def test_a_venue_restart_drops_every_line(url: str, venue: MockVenue) -> None:
    async with client(url) as trader:
        venue.restart(keep_state=True)
        with pytest.raises(ConnectionClosed):
            await trader.ask("symbol", sym="EP")
