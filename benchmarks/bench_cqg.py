"""CQG client benchmark over loopback WebSockets, each figure against a floor of the same run.

1. raw websockets floor: echo round trip and a one-way stream of same-size frames;
2. market-data ingest: the server streams quote updates, the client decodes them into core
   Quote/Trade events for a subscriber — msgs/s as a ratio of the raw stream (target >= 0.8);
3. order round trip NEW -> working status, p50/p99, minus the raw round trip (target <= 100 µs
   added at p50).

Usage: ``uv run python benchmarks/bench_cqg.py [--quick] [--out PATH]``. Writes JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from ec_core.model import Instrument, NewOrder, OrderType, ReportKind, Side
from ec_core.model.events import ExecutionReport
from ec_core.secrets import Secret
from ec_cqg.client import CqgSession, parse_cqg_settings
from ec_cqg.protocol.codec import decode_client, encode_server
from ec_cqg.protocol.pb import ClientMsg, ServerMsg
from ec_cqg.protocol.prices import qty_to_cqg
from ec_cqg.protocol.timestamps import ns_to_timestamp
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

ACCOUNT = 1001


def md_frame(i: int) -> bytes:
    msg = ServerMsg()
    data = msg.real_time_market_data.add(contract_id=1)
    # ES-like: price scale 0.01, tick 0.25, so the client divides (25 scaled per tick)
    q = data.quotes.add(type=0, scaled_price=(18000 + i % 8) * 25)
    qty_to_cqg(1, q.volume)
    q = data.quotes.add(type=1, scaled_price=(17999 + i % 8) * 25)
    qty_to_cqg(2, q.volume)
    return encode_server(msg)


class Server:
    def __init__(self, stream_count: int) -> None:
        self.stream_count = stream_count
        self.trade_sub = 0
        # Encoded once, like the raw floor's payload: the ingest figure measures the
        # client, not the server's protobuf encoder (which runs in this same process).
        self.md_frames = [md_frame(i) for i in range(8)]
        self.order_ns: list[int] = []  # server time per order: parse, answer, serialize

    async def handler(self, ws: ServerConnection) -> None:
        async for frame in ws:
            assert isinstance(frame, bytes)
            if frame.startswith(b"RAW"):  # raw floor: echo, or stream on request
                if frame == b"RAWSTREAM":
                    payload = md_frame(0)
                    for _ in range(self.stream_count):
                        await ws.send(payload)
                    await ws.send(b"RAWEND")
                else:
                    await ws.send(frame)
                continue
            start = time.perf_counter_ns()
            request = ClientMsg.FromString(frame)
            if request.order_requests:  # stands for CQG's server: no checks, lean
                payload = self.order_answer(request)
                self.order_ns.append(time.perf_counter_ns() - start)
                await ws.send(payload)
                continue
            out = self.answer(decode_client(frame))
            if out is not None:
                await ws.send(encode_server(out))
            for md_sub in request.market_data_subscriptions:
                if md_sub.level:  # not on the unsubscribe
                    frames = self.md_frames
                    for i in range(self.stream_count):
                        await ws.send(frames[i & 7])

    def answer(self, msg: Any) -> ServerMsg | None:
        out = ServerMsg()
        if msg.HasField("logon"):
            r = out.logon_result
            r.result_code, r.base_time, r.server_time = 0, "2025-01-02T00:00:00", 0
            r.protocol_version_major, r.protocol_version_minor = 2, 230
        if msg.HasField("logoff"):
            out.logged_off.logoff_reason = 1
        for info in msg.information_requests:
            report = out.information_reports.add(id=info.id, status_code=0)
            if info.HasField("symbol_resolution_request"):
                md = report.symbol_resolution_report.contract_metadata
                md.contract_id, md.contract_symbol, md.correct_price_scale = 1, "EP", 0.01
                md.display_price_scale, md.description, md.title = 2, "ES", "ES"
                md.tick_size, md.currency, md.tick_value, md.cfi_code = 0.25, "USD", 12.5, "F"
                md.instrument_group_name, md.session_info_id = "EP", 1
                md.short_instrument_group_name, md.instrument_group_description = "EP", "E"
                md.country_code = "US"
        for md_sub in msg.market_data_subscriptions:
            out.market_data_subscription_statuses.add(
                contract_id=md_sub.contract_id, status_code=0, level=md_sub.level
            )
        for sub in msg.trade_subscriptions:
            if sub.subscribe:
                self.trade_sub = sub.id
                out.trade_subscription_statuses.add(id=sub.id, status_code=0)
                out.trade_snapshot_completions.add(
                    subscription_id=sub.id, subscription_scopes=list(sub.subscription_scopes)
                )
        return out if out.ByteSize() else None

    def order_answer(self, msg: ClientMsg) -> bytes:
        """WORKING status for each new order."""
        out = ServerMsg()
        for request in msg.order_requests:
            order = request.new_order.order
            status = out.order_statuses.add(
                status=3,
                order_id=f"o{order.cl_order_id}",
                chain_order_id=order.cl_order_id,
                fill_cnt=0,
                scaled_avg_fill_price=0,
                avg_fill_price_correct=0.0,
                entered_by_user="u",
                first_statement_date=0,
                account_id=order.account_id,
            )
            status.subscription_ids.append(self.trade_sub)
            ns_to_timestamp(0, status.status_utc_timestamp)
            ns_to_timestamp(0, status.submission_utc_timestamp)
            status.order.CopyFrom(order)
            t = status.transaction_statuses.add(status=3, trans_id=1, cl_order_id=order.cl_order_id)
            ns_to_timestamp(0, t.trans_utc_timestamp)
        return out.SerializeToString()


async def raw_echo(ws: ClientConnection, rounds: int, frame: bytes) -> list[float]:
    """Round trips of a same-size frame through the same server, in µs."""
    rtts = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        await ws.send(b"RAW" + frame)
        await ws.recv()
        rtts.append((time.perf_counter_ns() - start) / 1000)
    return rtts


async def raw_stream(ws: ClientConnection) -> float:
    """Frames/s of the pre-encoded market-data frame, plain websockets on both ends."""
    start = time.perf_counter_ns()
    await ws.send(b"RAWSTREAM")
    count = 0
    while (await ws.recv()) != b"RAWEND":
        count += 1
    return count / ((time.perf_counter_ns() - start) / 1e9)


async def ingest(session: CqgSession, instrument: Instrument, count: int) -> float:
    """Frames/s from subscribe to the last core event delivered to the subscriber."""
    start = time.perf_counter_ns()
    received = 0
    async with session.market_data.stream([instrument]) as events:
        async for _ in events:
            received += 1
            if received >= 2 * count:  # one Trade and one Quote per frame
                break
    elapsed = (time.perf_counter_ns() - start) / 1e9
    if events.dropped:
        raise RuntimeError(f"the subscriber lagged: {events.dropped} events dropped")
    return count / elapsed


async def orders(session: CqgSession, rounds: int, first: int) -> list[float]:
    """NEW -> ACCEPTED (working) report on the trade stream, in µs."""
    rtts: list[float] = []
    async with session.trades.stream(str(ACCOUNT)) as events:
        for i in range(first, first + rounds):
            start = time.perf_counter_ns()
            await session.orders.send(
                NewOrder(
                    account_id=str(ACCOUNT),
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=Decimal("4000"),
                    cl_order_id=f"b{i}",
                )
            )
            async for event in events:
                if isinstance(event, ExecutionReport) and event.kind is ReportKind.ACCEPTED:
                    break
            rtts.append((time.perf_counter_ns() - start) / 1000)
    return rtts


async def main(quick: bool) -> dict[str, Any]:
    """Raw floor and client figures measured in alternating blocks, so load from other
    processes hits both sides of each figure alike: the best block of each side for the
    throughputs; for the round trip, echo and orders in short pairs of blocks, and the
    median over pairs of (order p50 - echo p50) as the added latency."""
    count = 5_000 if quick else 50_000
    rounds = 300 if quick else 3_000
    blocks = 3 if quick else 5
    pairs = 10 if quick else 30
    server = Server(count)
    raw_rates: list[float] = []
    ingest_rates: list[float] = []
    echo: list[float] = []
    order_rtts: list[float] = []
    async with serve(server.handler, "127.0.0.1", 0, compression=None, ping_interval=None) as srv:
        url = f"ws://127.0.0.1:{next(iter(srv.sockets)).getsockname()[1]}"
        settings = parse_cqg_settings(
            {
                "url": url,
                "user": "u",
                "password": Secret("p"),
                "throttle": False,
                "market_buffer": count * 3,
            }
        )
        async with (
            connect(url, compression=None, ping_interval=None) as ws,
            CqgSession(settings) as session,
        ):
            instrument = await session.resolve("EP")
            for _ in range(blocks):
                raw_rates.append(await raw_stream(ws))
                ingest_rates.append(await ingest(session, instrument, count))
            added: list[float] = []
            for pair in range(pairs):
                pair_echo = await raw_echo(ws, rounds // pairs, md_frame(0))
                pair_orders = await orders(session, rounds // pairs, pair * rounds)
                added.append(statistics.median(pair_orders) - statistics.median(pair_echo))
                echo += pair_echo
                order_rtts += pair_orders
    raw_best, ingest_best = max(raw_rates), max(ingest_rates)
    order_rtts.sort()
    p50 = statistics.median(order_rtts)
    p99 = order_rtts[int(len(order_rtts) * 0.99) - 1]
    echo_p50 = statistics.median(echo)
    server_p50 = statistics.median(server.order_ns) / 1000
    return {
        "raw": {"echo_p50_us": echo_p50, "stream_msgs_per_s": raw_best},
        "raw_stream_blocks": raw_rates,
        "ingest_blocks": ingest_rates,
        "ingest_msgs_per_s": ingest_best,
        "ingest_ratio_vs_raw": ingest_best / raw_best,
        "order_p50_us": p50,
        "order_p99_us": p99,
        "order_added_p50_us": statistics.median(added),
        "order_added_pooled_p50_us": p50 - echo_p50,
        "order_server_p50_us": server_p50,
        "order_added_by_client_p50_us": statistics.median(added) - server_p50,
        "order_p50_ratio_vs_raw_echo": p50 / echo_p50,
        "targets": {"ingest_ratio_min": 0.8, "order_added_p50_us_max": 100.0},
    }


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_cqg.json"))
    args = parser.parse_args()
    result = anyio.run(main, args.quick)  # measured without a profiler attached
    missed = result["ingest_ratio_vs_raw"] < 0.8 or result["order_added_p50_us"] > 100.0
    if missed:  # a second, profiled quick pass says where the time goes
        profiler = cProfile.Profile()
        profiler.enable()
        anyio.run(main, True)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        result["profile"] = text.getvalue()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    shown = {k: v for k, v in result.items() if k != "profile"}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    run()
