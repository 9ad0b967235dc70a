"""CQG-dialect server fan-out: NEW -> WORKING latency with 1, 50 and 200 sessions on one account.

Every session is logged on as the same user and subscribed to the account's orders (the
audit's setup); one of them places resting limit orders. A ``receive`` of the order frame
runs the whole path in the Sans-I/O core: translation, IN_TRANSIT to every subscriber, the
engine, WORKING to every subscriber. The figure is the time of that call (the frames are
queued, encoded, for every session), p50/p99, and its ratio to the 1-session floor measured
in the same run. Sockets are left out on purpose: this measures the server's work per
status, which is what grows with the number of sessions.

Usage: ``uv run python benchmarks/bench_cqg_sessions.py [--quick] [--out PATH]``. Writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from ec_core.clock import ManualClock
from ec_cqg.protocol.codec import decode_server, encode_client
from ec_cqg.protocol.pb import ClientMsg, order_2
from ec_cqg.protocol.prices import decimal_to_cqg
from ec_cqg.server import ServerConfig
from ec_cqg.server.core import ConnectionCore, CqgServerCore
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD, ACCOUNT = "bench", "bench-pw", "BENCH-1"


def _send(connection: ConnectionCore, msg: ClientMsg) -> list[Any]:
    connection.receive(encode_client(msg))
    return [decode_server(frame) for frame in connection.data_to_send()]


def _session(server: CqgServerCore) -> ConnectionCore:
    connection = server.connect()
    logon = ClientMsg()
    logon.logon.user_name, logon.logon.password = USER, PASSWORD
    logon.logon.client_app_id, logon.logon.client_version = "bench", "1"
    _send(connection, logon)
    resolve = ClientMsg()
    resolve.information_requests.add(id=1).symbol_resolution_request.symbol = "EP"
    _send(connection, resolve)
    subscribe = ClientMsg()
    subscribe.trade_subscriptions.add(id=2, subscribe=True, subscription_scopes=[1])
    _send(connection, subscribe)
    return connection


def measure(sessions: int, orders: int) -> dict[str, Any]:
    venue = MockVenue.create(
        seed=1, clock=ManualClock(SIM_START_NS), accounts=[ACCOUNT], market=False
    )
    config = ServerConfig(max_outbound_bytes=1 << 30)
    server = CqgServerCore(venue, lambda u, p: (u, p) == (USER, PASSWORD), config=config)
    connections = [_session(server) for _ in range(sessions)]
    trader = connections[0]
    account_id = server.accounts.id_of(ACCOUNT)
    latencies: list[float] = []
    for n in range(orders):
        msg = ClientMsg()
        order = msg.order_requests.add(request_id=10 + n).new_order.order
        order.account_id, order.contract_id, order.cl_order_id = account_id, 1, f"o{n}"
        order.side, order.order_type = order_2.Order.SIDE_BUY, order_2.Order.ORDER_TYPE_LMT
        order.duration = order_2.Order.DURATION_DAY
        order.scaled_limit_price = 100 + n % 7
        decimal_to_cqg(Decimal(1), order.qty)
        frame = encode_client(msg)
        start = time.perf_counter_ns()
        trader.receive(frame)
        latencies.append((time.perf_counter_ns() - start) / 1000)
        for connection in connections:
            connection.data_to_send()
    answers = [decode_server(f) for f in trader.data_to_send()]
    assert not any(a.order_request_rejects for a in answers)
    cut = sorted(latencies)
    return {
        "sessions": sessions,
        "orders": orders,
        "p50_us": round(statistics.median(cut), 1),
        "p99_us": round(cut[min(len(cut) - 1, int(len(cut) * 0.99))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer orders (CI smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args()
    orders = 60 if args.quick else 400
    rows = [measure(n, orders) for n in (1, 50, 200)]
    floor = rows[0]["p50_us"]
    for row in rows:
        row["p50_ratio_to_1_session"] = round(row["p50_us"] / floor, 1)
        row["p50_us_per_session"] = round(row["p50_us"] / row["sessions"], 1)
        print(
            f"{row['sessions']:>4} sessions: NEW->WORKING p50 {row['p50_us']:>9.1f} µs"
            f"  p99 {row['p99_us']:>9.1f} µs  ({row['p50_ratio_to_1_session']}x 1 session,"
            f" {row['p50_us_per_session']} µs per session)"
        )
    result = {"benchmark": "cqg_sessions", "quick": args.quick, "rows": rows}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
