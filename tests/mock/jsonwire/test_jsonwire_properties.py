"""The ``json`` dialect's Sans-I/O core without a socket. Property: whatever a logged-on
client sends, each frame is answered exactly once (a message carrying ``req``), nothing
raises, and the venue's books stay consistent (``venue.check``). And its outbound bound:
a client that does not read is dropped, not queued for without end."""

from __future__ import annotations

import json
from typing import Any

from ec_core.clock import ManualClock
from ec_mock.jsonwire.core import JsonConnection, JsonServerCore
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS
from hypothesis import given, settings
from hypothesis import strategies as st

OPS = ["logon", "symbol", "new", "modify", "cancel", "cancel_all", "liquidate", "orders",
       "account", "quotes", "unquotes", "teleport"]  # fmt: skip
KEYS = ["op", "req", "acct", "id", "orig", "sym", "side", "qty", "type", "px", "stop", "tif",
        "since", "until", "user", "password", "colour"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(OPS),
    st.sampled_from(["A-1", "A-2", "HOUSE", "EP", "TYA", "NOPE", "B", "S", "LMT", "MKT", "STP"]),
    st.sampled_from(["4500.25", "4500.10", "-1", "1e3", "", "DAY", "GTC", "IOC", "c1", "c2"]),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
REQUESTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=9).map(
    lambda d: json.dumps({"req": 1, **d}) if "op" in d else json.dumps(d)
)
NEAR = ["4499.75", "4500.00", "4500.25", "4500.50", "110.015625", "110.03125", "110.0"]
PRICES = st.one_of(
    st.sampled_from(NEAR),  # on a grid, near the contract's reference price: these trade
    st.sampled_from(NEAR),
    st.none(),
    st.decimals(min_value=-10, max_value=10**6, places=6, allow_nan=False).map(str),
    st.sampled_from(["4500.25", "4500.00", "110.015625", "0", "999999999999.999999999999"]),
)
ORDER_FIELDS = {
    "req": st.integers(0, 9),
    "acct": st.sampled_from(["A-1", "A-2"]),
    "id": st.text("abcdef", min_size=1, max_size=3),
    "sym": st.sampled_from(["EP", "TYA", "NOPE"]),
}
ORDERS = st.one_of(
    st.fixed_dictionaries(
        {"op": st.just("new"), **ORDER_FIELDS, "side": st.sampled_from(["B", "S"]),
         "qty": st.one_of(st.integers(1, 5), st.integers(-1, 2_000_000)),
         "type": st.sampled_from(["LMT", "MKT", "STP", "STL"]),
         "px": PRICES, "stop": PRICES, "tif": st.sampled_from(["DAY", "GTC", "IOC", "FOK"])}
    ),
    st.fixed_dictionaries(
        {"op": st.just("modify"), **ORDER_FIELDS, "orig": st.text("abcdef", min_size=1, max_size=3),
         "qty": st.one_of(st.none(), st.integers(1, 20_000)), "px": PRICES}
    ),
    st.fixed_dictionaries(
        {"op": st.sampled_from(["cancel", "liquidate"]), **ORDER_FIELDS,
         "orig": st.text("abcdef", min_size=1, max_size=3)}
    ).map(lambda d: d if d["op"] == "cancel" else {k: v for k, v in d.items() if k != "orig"}),
    st.fixed_dictionaries({"op": st.just("account"), "req": st.just(1), "acct": st.just("A-1")}),
).map(lambda d: json.dumps({k: v for k, v in d.items() if v is not None}))  # fmt: skip
FRAMES = st.one_of(ORDERS, ORDERS, REQUESTS, st.text(max_size=40), st.binary(max_size=20))


def answers(connection: JsonConnection) -> list[dict[str, Any]]:
    return [m for m in map(json.loads, connection.data_to_send()) if "req" in m]


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAMES, max_size=12))
def test_every_frame_is_answered_once_and_nothing_raises(frames: list[str | bytes]) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), accounts=["A-1", "A-2"], market=False)
    core = JsonServerCore(venue, lambda user, password: password == "pw")
    connection = core.connect()
    connection.receive(json.dumps({"op": "logon", "req": 0, "user": "u", "password": "pw"}))
    assert [m["ev"] for m in answers(connection)] == ["logon"]
    for frame in frames:
        connection.receive(frame)
        said = answers(connection)
        if connection.closed:
            break
        assert len(said) == 1, (frame, said)
    venue.check()
    assert core.counters["venue_error"] == 0  # the engine took every request it was given
    core.close()


def test_a_client_that_does_not_read_is_dropped_at_the_outbound_bound() -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), accounts=["A-1"], market=False)
    core = JsonServerCore(venue, lambda user, password: True, max_outbound=4)
    connection = core.connect()
    woken: list[bool] = []
    connection.on_output = lambda: woken.append(connection.drop_requested)
    connection.receive(json.dumps({"op": "logon", "req": 0, "user": "u", "password": "pw"}))
    connection.receive(json.dumps({"op": "symbol", "req": 1, "sym": "EP"}))
    assert connection.backed_up  # half the bound waits: the shell stops reading
    connection.receive(json.dumps({"op": "symbol", "req": 2, "sym": "EP"}))
    connection.receive(json.dumps({"op": "symbol", "req": 3, "sym": "EP"}))
    connection.receive(json.dumps({"op": "symbol", "req": 4, "sym": "EP"}))  # the fifth
    assert connection.drop_requested
    assert connection.closed
    assert woken[-1] is True
    assert core.counters["outbound_overflow"] == 1
    assert connection not in core.connections
    assert connection.data_to_send() == []
    core.close()
