"""Hostile requests from a raw client over real loopback WebSockets: every request is
answered (a reject naming what is wrong, or the order's own status), the line stays
open, and another session on the same server is served meanwhile.

The Sans-I/O core is walked field by field elsewhere (``test_cqgserver_never_silent``,
``test_cqgserver_fuzz``); here the frames cross the real shell: wrong types, unknown enum
values, missing required fields, out-of-range prices and quantities, duplicate ids,
a burst of thousands of requests in one frame, requests before logon and after logoff.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cqgserver_support import PASSWORD, USER, make_venue
from ec_core.secrets import Secret
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, order_2
from ec_cqg.protocol.prices import decimal_to_cqg
from ec_cqg.server import CqgDialect
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.anyio

_O = order_2.Order
_LIMIT_S = 20.0
_tokens = itertools.count()


class Line:
    """A raw client: frames out, every ``ServerMsg`` in, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def exchange(self, frame: ClientMsg | bytes) -> list[ServerMsg]:
        """Send ``frame`` (partial messages too), then a ping; every answer to ``frame`` comes
        before that ping's pong (the server handles a line's frames in order)."""
        raw = frame.SerializePartialToString() if isinstance(frame, ClientMsg) else frame
        await self.ws.send(raw)
        token = f"sentinel-{next(_tokens)}"
        ping = ClientMsg()
        ping.ping.token, ping.ping.ping_utc_time = token, 0
        await self.ws.send(ping.SerializeToString())
        answers: list[ServerMsg] = []
        with anyio.fail_after(_LIMIT_S):
            while True:
                msg = ServerMsg.FromString(await self.ws.recv(decode=False))
                if msg.HasField("pong") and msg.pong.token == token:
                    return answers
                answers.append(msg)

    async def logon(self) -> tuple[int, int]:
        """Logon, the account, EP resolved and the trade subscription: (account, contract)."""
        msg = ClientMsg()
        logon = msg.logon
        logon.user_name, logon.password = USER, PASSWORD
        logon.client_app_id, logon.client_version = "hostile", "0"
        logon.protocol_version_major, logon.protocol_version_minor = 2, 230
        await self.exchange(msg)
        ask = ClientMsg()
        ask.information_requests.add(id=1).accounts_request.SetInParent()
        ask.information_requests.add(id=2).symbol_resolution_request.symbol = "EP"
        ask.trade_subscriptions.add(id=3, subscribe=True).subscription_scopes.append(1)
        reports = {r.id: r for m in await self.exchange(ask) for r in m.information_reports}
        brokerage = reports[1].accounts_report.brokerages[0]
        account = brokerage.sales_series[0].accounts[0].account_id
        contract = reports[2].symbol_resolution_report.contract_metadata.contract_id
        return account, contract


async def until_closed(ws: ClientConnection) -> list[ServerMsg]:
    """Every message until the server closes the line (it must, in time)."""
    answers: list[ServerMsg] = []
    with anyio.fail_after(_LIMIT_S):
        try:
            while True:
                answers.append(ServerMsg.FromString(await ws.recv(decode=False)))
        except ConnectionClosed:
            return answers


@asynccontextmanager
async def served() -> AsyncIterator[tuple[str, MockVenue]]:
    venue = make_venue(market=False)
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    async with CqgDialect().serve(venue, options) as endpoint:
        yield endpoint.url, venue
    venue.check()  # the engine's invariants hold after all of it


@asynccontextmanager
async def beside_a_bystander() -> AsyncIterator[tuple[Line, Line]]:
    """A line to test (frames of any size) and a second session of the same user on the
    same server, logged on: it must be served whatever the first one sends."""
    async with (
        served() as (url, _venue),
        connect(url, ping_interval=None, max_size=None) as ws,
        connect(url, ping_interval=None) as bystander_ws,
    ):
        bystander = Line(bystander_ws)
        await bystander.logon()
        yield Line(ws), bystander


def new_order(msg: ClientMsg, request_id: int, cl: str, account: int, contract: int,
              **fields: Any) -> order_2.Order:  # fmt: skip
    """A LMT DAY buy of 1 with ``fields`` replacing any of it (``qty=None``: no qty)."""
    order = msg.order_requests.add(request_id=request_id).new_order.order
    order.account_id, order.contract_id, order.cl_order_id = account, contract, cl
    order.side = fields.pop("side", _O.SIDE_BUY)
    order.order_type = fields.pop("order_type", _O.ORDER_TYPE_LMT)
    order.duration = fields.pop("duration", _O.DURATION_DAY)
    qty = fields.pop("qty", Decimal(1))
    if qty is not None:
        decimal_to_cqg(qty, order.qty)
    for name, value in fields.items():
        if name == "exec_instructions":
            order.exec_instructions.extend(value)
        else:
            setattr(order, name, value)
    return order


def answer_of(answers: list[ServerMsg], request_id: int, cl: str) -> str:
    """What the server said to one order request: its reject's text, else the last status
    (with its text) of the order it placed; ``""``: nothing (a defect)."""
    said = ""
    for msg in answers:
        for reject in msg.order_request_rejects:
            if reject.request_id == request_id:
                assert reject.text_message, reject  # a reject names its reason
                return f"reject: {reject.text_message}"
        for status in msg.order_statuses:
            if status.order.cl_order_id == cl:
                texts = [t.text_message for t in status.transaction_statuses if t.text_message]
                said = f"status {status.status}: {' '.join(texts)}"
    return said


# name -> (fields of the new order, a word the answer must hold)
HOSTILE_ORDERS: dict[str, tuple[dict[str, Any], str]] = {
    "side 99": ({"side": 99, "scaled_limit_price": 400_000}, "side 99"),
    "order type 99": ({"order_type": 99, "scaled_limit_price": 400_000}, "order_type 99"),
    "duration 99": ({"duration": 99, "scaled_limit_price": 400_000}, "duration 99"),
    "exec instruction 999": (
        {"exec_instructions": [999], "scaled_limit_price": 400_000}, "instruction 999",
    ),
    "qty 0": ({"qty": Decimal(0), "scaled_limit_price": 400_000}, "QTY"),
    "qty -1": ({"qty": Decimal(-1), "scaled_limit_price": 400_000}, "qty"),
    "qty 1E+30": ({"qty": Decimal("1E+30"), "scaled_limit_price": 400_000}, "out of range"),
    "qty 0.5": ({"qty": Decimal("0.5"), "scaled_limit_price": 400_000}, "whole"),
    "no qty": ({"qty": None, "scaled_limit_price": 400_000}, "qty"),
    "LMT without price": ({}, "PRICE_MISSING"),
    "STP without stop": ({"order_type": _O.ORDER_TYPE_STP}, "PRICE_MISSING"),
    "price 2**62": ({"scaled_limit_price": 2**62}, "PRICE"),
    "price -2**62": ({"scaled_limit_price": -(2**62)}, "PRICE"),
    "price 0": ({"scaled_limit_price": 0}, "PRICE_BELOW_MINIMUM"),
    "GTD without date": ({"duration": _O.DURATION_GTD, "scaled_limit_price": 400_000}, "GTD"),
    "GTD 2**62": (
        {"duration": _O.DURATION_GTD, "good_thru_date": 2**62, "scaled_limit_price": 400_000},
        "good_thru_date",
    ),
}  # fmt: skip


async def test_every_hostile_order_request_is_answered_naming_what_is_wrong() -> None:
    async with beside_a_bystander() as (line, bystander):
        account, contract = await line.logon()
        for request_id, (name, (fields, word)) in enumerate(HOSTILE_ORDERS.items(), start=10):
            msg = ClientMsg()
            new_order(msg, request_id, f"h{request_id}", account, contract, **fields)
            said = answer_of(await line.exchange(msg), request_id, f"h{request_id}")
            assert said, f"{name}: no answer"
            assert word.lower() in said.lower(), f"{name}: {said}"
            assert "status 3" not in said, f"{name} is working: {said}"  # 3: WORKING
        odd_ids = {"": "1..64", "x" * 65: "1..64", "a\x00b": "printable", "2\nlines": "printable"}
        for request_id, (cl, word) in enumerate(odd_ids.items(), start=40):
            msg = ClientMsg()
            new_order(msg, request_id, cl, account, contract, scaled_limit_price=400_000)
            said = answer_of(await line.exchange(msg), request_id, cl)
            assert said.startswith("reject:"), (cl, said)
            assert word in said, (cl, said)
        for request_id, (who, where, word) in enumerate(
            [(999_999, contract, "account_id"), (-5, contract, "account_id"),
             (account, 424_242, "contract_id")], start=50,
        ):  # fmt: skip
            msg = ClientMsg()
            new_order(msg, request_id, f"w{request_id}", who, where, scaled_limit_price=400_000)
            said = answer_of(await line.exchange(msg), request_id, f"w{request_id}")
            assert said.startswith("reject:"), said
            assert word in said, said
        # the bystander (same user: it sees the account's orders) was served all along
        seen = await bystander.exchange(ClientMsg())
        assert {s.order.cl_order_id for m in seen for s in m.order_statuses} <= {
            f"h{i}" for i in range(10, 40)
        }
        assert line.ws.close_code is None
        assert bystander.ws.close_code is None


async def test_requests_without_an_order_or_on_no_order_are_rejected_by_id() -> None:
    async with served() as (url, _venue), connect(url, ping_interval=None) as ws:
        line = Line(ws)
        account, contract = await line.logon()
        msg = ClientMsg()
        msg.order_requests.add(request_id=80)  # no action at all
        modify = msg.order_requests.add(request_id=81).modify_order
        modify.order_id, modify.account_id = "nope", account
        modify.orig_cl_order_id, modify.cl_order_id = "zz", "zz2"
        cancel = msg.order_requests.add(request_id=82).cancel_order
        cancel.order_id, cancel.account_id = "nope", account
        cancel.orig_cl_order_id, cancel.cl_order_id = "zz", "zz3"
        msg.order_requests.add(request_id=83).modify_order.SetInParent()  # every id missing
        msg.order_requests.add(request_id=84).cancel_all_orders.SetInParent()
        # the same request id twice, the same cl_order_id twice: each answered
        new_order(msg, 85, "dup", account, contract, scaled_limit_price=400_000)
        new_order(msg, 85, "dup2", account, contract, scaled_limit_price=400_000)
        new_order(msg, 86, "dup", account, contract, scaled_limit_price=400_000)
        answers = await line.exchange(msg)
        rejects = {r.request_id: r.text_message for m in answers for r in m.order_request_rejects}
        assert set(rejects) >= {80, 81, 82, 83, 84, 86}, rejects
        assert "no action" in rejects[80]
        assert "unknown order_id" in rejects[81]
        assert "unknown order_id" in rejects[82]
        assert "already used" in rejects[86]
        placed = {s.order.cl_order_id for m in answers for s in m.order_statuses}
        assert placed == {"dup", "dup2"}


async def test_a_burst_of_thousands_of_requests_is_answered_whole_and_others_are_served() -> None:
    async with beside_a_bystander() as (line, bystander):
        account, contract = await line.logon()
        burst = ClientMsg()
        for k in range(2_000):  # bids at 1.00: nothing trades; buying power takes 80 of them
            new_order(burst, 1_000 + k, f"b{k}", account, contract, scaled_limit_price=100)
        for k in range(2_000):
            burst.information_requests.add(id=10_000 + k).accounts_request.SetInParent()
        answers = await line.exchange(burst)
        ended = {  # 3: WORKING, 2: REJECTED (INSUFFICIENT_BUYING_POWER)
            s.order.cl_order_id for m in answers for s in m.order_statuses if s.status in (2, 3)
        }
        assert ended == {f"b{k}" for k in range(2_000)}
        assert sum(len(m.information_reports) for m in answers) == 2_000
        await bystander.exchange(ClientMsg())  # served (it sees the burst's orders too)


@pytest.mark.parametrize(
    ("frame", "said"),
    [
        (b"\x0a\x05\x08", "malformed"),  # truncated
        (b"\x0a" * 10_000, "malformed"),  # nested lengths that never end
        (b"\x08\x05", "not supported"),  # field 1 (logon) with a varint's wire type
        (b"\xf8\x3f\x01", "not supported"),  # a field number no CQG message has
        ("text, not protobuf", "malformed"),
    ],
)
async def test_a_malformed_frame_is_answered_and_the_line_stays(
    frame: bytes | str, said: str
) -> None:
    async with served() as (url, _venue), connect(url, ping_interval=None) as ws:
        line = Line(ws)
        await line.logon()
        if isinstance(frame, str):
            await ws.send(frame)
            answers = await line.exchange(ClientMsg())
        else:
            answers = await line.exchange(frame)
        texts = [f"{u.subject}: {u.text}" for m in answers for u in m.user_messages]
        [text] = texts
        assert said in text
        resolve = ClientMsg()
        resolve.information_requests.add(id=9).symbol_resolution_request.symbol = "GCE"
        [report] = [r for m in await line.exchange(resolve) for r in m.information_reports]
        assert report.status_code == 0


async def test_an_order_before_logon_is_told_logon_first_and_the_line_closes() -> None:
    async with served() as (url, venue), connect(url, ping_interval=None) as ws:
        msg = ClientMsg()
        new_order(msg, 1, "early", 1001, 1, scaled_limit_price=400_000)
        await ws.send(msg.SerializePartialToString())
        answers = await until_closed(ws)
        assert [u.subject for m in answers for u in m.user_messages] == ["logon required"]
        assert venue.exchange.open_orders("TEST-1") == []


async def test_nothing_after_logoff_is_evaluated() -> None:
    async with served() as (url, venue), connect(url, ping_interval=None) as ws:
        line = Line(ws)
        account, contract = await line.logon()
        bye = ClientMsg()
        bye.logoff.SetInParent()
        await ws.send(bye.SerializePartialToString())
        late = ClientMsg()
        new_order(late, 7, "late", account, contract, scaled_limit_price=400_000)
        await ws.send(late.SerializePartialToString())  # may race the close: never evaluated
        answers = await until_closed(ws)
        assert [m.HasField("logged_off") for m in answers] == [True]
        assert venue.exchange.open_orders("TEST-1") == []


_ANY_INT = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 1, 2, 3, 4, 99, 2**31, -1])
)


_QTY = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-5, max_value=5)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "side": st.integers(0, 2**32 - 1),
            "order_type": st.integers(0, 2**32 - 1),
            "duration": st.integers(0, 2**32 - 1),
            "scaled_limit_price": _ANY_INT,
            "scaled_stop_price": _ANY_INT,
            "good_thru_date": _ANY_INT,
            "qty": st.one_of(
                st.none(),
                st.decimals(
                    allow_nan=False, allow_infinity=False, places=2, min_value=-5, max_value=5
                ),
            ),
            "exec_instructions": st.lists(st.integers(0, 40), max_size=3),
        },
    )
)
async def test_any_new_order_fields_get_an_answer(fields: dict[str, Any]) -> None:
    async with served() as (url, _venue), connect(url, ping_interval=None) as ws:
        line = Line(ws)
        account, contract = await line.logon()
        msg = ClientMsg()
        new_order(msg, 5, "any", account, contract, **fields)
        assert answer_of(await line.exchange(msg), 5, "any"), fields


async def test_a_frame_of_costly_requests_is_answered_without_holding_the_server() -> None:
    # A year of session information costs ~50 ms of the server's one thread; a 1 MB frame
    # holds ~60,000 such requests: ~50 minutes during which no other session was served.
    async with beside_a_bystander() as (line, bystander):
        _account, contract = await line.logon()
        msg = ClientMsg()
        for k in range(2_000):
            asked = msg.information_requests.add(id=100 + k).session_information_request
            asked.session_info_id, asked.from_utc_time = contract, 0
            asked.to_utc_time = 366 * 86_400_000
        with anyio.fail_after(10):
            answers = await line.exchange(msg)
        codes = [r.status_code for m in answers for r in m.information_reports]
        assert len(codes) == 2_000  # every request answered
        assert codes.count(0) == 16  # the first ones in full, the rest told to ask again
        limited = [r for m in answers for r in m.information_reports if r.status_code]
        assert {r.status_code for r in limited} == {105}  # REQUEST_RATE_LIMIT_VIOLATION
        assert "at most 16 session information" in limited[0].text_message
        await bystander.exchange(ClientMsg())


async def test_history_requests_share_the_budget_of_one_message() -> None:
    # Time and sales over the tape cost ~50 ms each with 44,000 events (more on a server
    # left running): as session information did, a message of thousands held the server.
    async with beside_a_bystander() as (line, bystander):
        _account, contract = await line.logon()
        msg = ClientMsg()
        for k in range(40):
            asked = msg.time_and_sales_requests.add(request_id=100 + k)
            asked.time_and_sales_parameters.contract_id = contract
            asked.time_and_sales_parameters.level = 1
            asked.time_and_sales_parameters.from_utc_time = -60_000
            bars = msg.time_bar_requests.add(request_id=200 + k).time_bar_parameters
            bars.contract_id, bars.bar_unit, bars.unit_number = contract, 7, 1
            bars.from_utc_time = -60_000
        answers = await line.exchange(msg)
        sales = {r.request_id: r.result_code for m in answers for r in m.time_and_sales_reports}
        bar_codes = {r.request_id: r.status_code for m in answers for r in m.time_bar_reports}
        assert set(sales) == set(range(100, 140))  # every request answered
        assert set(bar_codes) == set(range(200, 240))
        limited = [k for k, code in sales.items() if code == 107] + [
            k for k, code in bar_codes.items() if code == 109
        ]  # REQUEST_RATE_LIMIT_VIOLATION of each
        assert len(limited) == 80 - 16
        await bystander.exchange(ClientMsg())
