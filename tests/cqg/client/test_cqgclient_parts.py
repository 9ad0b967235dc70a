"""The client's parts: throttle, backoff, settings, recorder, field rules, EC_API layer,
event channels and the line's send order."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from cqgclient_support import ACCOUNT, PASSWORD, FakeCqgServer, fake_server, settings_for
from ec_core.clock import ManualClock
from ec_core.errors import ConfigError, OrderDeniedError
from ec_core.execution.payload import Payload
from ec_core.model import (
    CancelOrder,
    Duration,
    ExecInstruction,
    ModifyOrder,
    NewOrder,
    OrderType,
    ReportKind,
    RequestType,
    Side,
    SmpInstruction,
)
from ec_core.secrets import Secret
from ec_core.streams import MarketChannel
from ec_core.validation import PreTradeContext, ValidatorRegistry
from ec_cqg.client import CqgSession, parse_cqg_settings
from ec_cqg.client.backoff import Backoff
from ec_cqg.client.recorder import read_recording, replay_client_frames
from ec_cqg.client.throttle import Limit, Throttle
from ec_cqg.client.transport import open_connection
from ec_cqg.compat import (
    ConnectCQG,
    CQGFormatCheck,
    CQGLiveOrder,
    DetailsError,
    MonitorTradeCQG,
    details_to_request,
)
from ec_cqg.protocol.pb import ServerMsg
from ec_cqg.rules import CQG_RULE_CODES, CqgFieldRules
from websockets.asyncio.server import ServerConnection, serve

from ec_cqg import plugin

ACC = str(ACCOUNT)
NOW = int(datetime(2025, 6, 2, tzinfo=UTC).timestamp()) * 1_000_000_000


# -- throttle -------------------------------------------------------------------


def test_throttle_allows_a_burst_then_spaces_messages() -> None:
    clock = ManualClock()
    throttle = Throttle(clock, messages=Limit(10, 1.0))
    for _ in range(10):
        assert throttle.delay_ns() == 0
        throttle.take()
    delay = throttle.delay_ns()
    assert 0 < delay <= 100_000_001  # one token every 100 ms
    clock.advance(delay)
    assert throttle.delay_ns() == 0


def test_throttle_per_account_order_limit_is_separate() -> None:
    clock = ManualClock()
    throttle = Throttle(clock, account_orders=Limit(2, 1.0))
    for _ in range(2):
        throttle.take(orders=1, accounts=(1,))
    assert throttle.delay_ns(orders=1, accounts=(1,)) > 0
    assert throttle.delay_ns(orders=1, accounts=(2,)) == 0


@pytest.mark.anyio
async def test_throttle_acquire_sleeps_instead_of_failing() -> None:
    clock = ManualClock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(int(seconds * 1e9))

    throttle = Throttle(clock, messages=Limit(2, 1.0), sleep=fake_sleep)
    for _ in range(5):
        await throttle.acquire()
    assert len(slept) == 3
    assert throttle.waits == 3


def test_backoff_grows_is_capped_and_is_seeded() -> None:
    one = Backoff(initial=0.1, maximum=1.0, jitter=0.5, rng=random.Random(3))
    two = Backoff(initial=0.1, maximum=1.0, jitter=0.5, rng=random.Random(3))
    delays = [one.next_delay() for _ in range(8)]
    assert delays == [two.next_delay() for _ in range(8)]
    assert all(0.05 <= d <= 1.0 for d in delays)
    assert delays[-1] >= 0.5  # capped at 1.0, jitter at most halves it
    one.reset()
    assert one.next_delay() <= 0.1


# -- settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ({"user": "u", "password": Secret("p")}, "vendors.cqg.url"),
        ({"url": "http://x", "user": "u", "password": Secret("p")}, "vendors.cqg.url"),
        ({"url": "wss://x", "password": Secret("p")}, "vendors.cqg.user"),
        ({"url": "wss://x", "user": "u"}, "vendors.cqg.password"),
        ({"url": "wss://x", "user": "u", "password": "p", "request_timeout": 0}, None),
        ({"url": "wss://x", "user": "u", "password": "p", "bogus": 1}, "vendors.cqg.bogus"),
    ],
)
def test_bad_settings_name_the_key(table: dict[str, object], path: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        parse_cqg_settings(table)
    assert info.value.path == (path or "vendors.cqg.request_timeout")


def test_settings_repr_hides_the_password() -> None:
    settings = parse_cqg_settings({"url": "wss://x", "user": "u", "password": Secret("hunter2")})
    assert "hunter2" not in repr(settings)
    assert settings.password.reveal() == "hunter2"


def test_plain_ws_allowed_to_loopback_or_when_asked() -> None:
    parse_cqg_settings({"url": "ws://127.0.0.1:1", "user": "u", "password": "p"})
    parse_cqg_settings({"url": "ws://[::1]:1", "user": "u", "password": "p"})
    parse_cqg_settings(
        {"url": "ws://example.com", "user": "u", "password": "p", "allow_insecure": True}
    )


# -- field rules ----------------------------------------------------------------


def ctx(vendor: str = "cqg") -> PreTradeContext:
    return PreTradeContext(now_ns=NOW, vendor=vendor)


def new(**extra: object) -> NewOrder:
    fields: dict[str, object] = {
        "account_id": ACC,
        "symbol": "EP",
        "side": Side.BUY,
        "qty": 1,
        "order_type": OrderType.LMT,
        "limit_price": Decimal(1),
    }
    fields.update(extra)
    return NewOrder(**fields)  # type: ignore[arg-type]


def codes(request: object, context: PreTradeContext | None = None) -> list[str]:
    return sorted(v.code for v in CqgFieldRules().validate(request, context or ctx()))  # type: ignore[arg-type]


def test_rules_pass_a_good_order() -> None:
    assert codes(new()) == []


def test_rules_name_every_cqg_violation_at_once() -> None:
    bad = new(
        qty=2**32,
        account_id="abc",
        cl_order_id="x" * 65,
        exec_instructions=frozenset({ExecInstruction.POST_ONLY}),
        duration=Duration.IOC,
    )
    assert codes(bad) == ["CQG_ACCOUNT_ID", "CQG_CL_ORDER_ID", "CQG_EXEC_INSTRUCTION", "CQG_QTY"]
    assert set(codes(bad)) <= set(CQG_RULE_CODES)


def test_rules_leave_to_core_what_core_checks() -> None:
    """Prices per order type, a positive qty, the GTD date, required ids, an empty modify:
    core's rules name them once; the CQG rules do not repeat them under CQG_ codes."""
    assert codes(new(order_type=OrderType.MKT)) == []
    assert codes(new(order_type=OrderType.STL, limit_price=None)) == []
    assert codes(new(qty=0)) == []
    assert codes(new(duration=Duration.GTD, good_thru_date=date(2025, 6, 1))) == []
    assert codes(ModifyOrder(account_id=ACC, symbol="EP", orig_cl_order_id="a")) == []
    assert codes(CancelOrder(account_id=ACC, symbol="EP", orig_cl_order_id="")) == []


def test_rules_instructions_against_type_and_duration() -> None:
    post_only = frozenset({ExecInstruction.POST_ONLY})
    assert codes(new(exec_instructions=post_only, duration=Duration.IOC)) == [
        "CQG_EXEC_INSTRUCTION"
    ]
    iceberg = frozenset({ExecInstruction.ICEBERG})
    assert codes(new(order_type=OrderType.MKT, limit_price=None, exec_instructions=iceberg)) == [
        "CQG_EXEC_INSTRUCTION"
    ]
    assert codes(ModifyOrder(account_id=ACC, symbol="EP", orig_cl_order_id="a", qty=2**32)) == [
        "CQG_QTY"
    ]


def test_rules_refuse_order_qualifiers_cqg_has_no_field_for() -> None:
    """CQG WebAPI 2.230's Order has visible_qty (iceberg) but no minimum quantity and no
    self-match prevention: such an order is denied before anything is sent."""
    assert codes(new(min_qty=1, duration=Duration.IOC)) == ["CQG_NO_FIELD"]
    assert codes(new(smp_id="DESK1")) == ["CQG_NO_FIELD"]
    assert codes(new(smp_instruction=SmpInstruction.CANCEL_RESTING)) == ["CQG_NO_FIELD"]
    assert codes(new(qty=10, display_qty=2)) == []
    assert codes(new(order_type=OrderType.MTL, limit_price=None)) == []


def test_plugin_registers_the_rules_for_cqg_only() -> None:
    registry = ValidatorRegistry()
    plugin.ec_register_validators(registry)
    assert registry.names() == ["cqg_field_rules"]
    assert registry.vendor_of("cqg_field_rules") == "cqg"
    assert registry.run(new(qty=2**32), ctx())[0].code == "CQG_QTY"
    assert registry.run(new(qty=2**32, account_id="x"), ctx("mock")) == []


# -- EC_API-style layer -----------------------------------------------------------


def test_details_to_request_from_ec_api_names() -> None:
    request = details_to_request(
        "NEW_ORDER",
        {
            "symbol_name": "EP",
            "cl_order_id": "1231314",
            "order_type": "ORDER_TYPE_LMT",
            "duration": 2,
            "side": "SIDE_BUY",
            "qty_significant": 2,
            "qty_exponent": 0,
            "limit_price": "4500.25",
            "exec_instructions": "EXEC_INSTRUCTION_AON",
        },
        account_id=ACC,
    )
    assert request == NewOrder(
        account_id=ACC,
        symbol="EP",
        side=Side.BUY,
        qty=2,
        order_type=OrderType.LMT,
        limit_price=Decimal("4500.25"),
        duration=Duration.GTC,
        exec_instructions=frozenset({ExecInstruction.AON}),
        cl_order_id="1231314",
    )
    cancel = details_to_request(
        RequestType.CANCEL, {"orig_cl_order_id": "1", "cl_order_id": "2"}, account_id=ACC
    )
    assert isinstance(cancel, CancelOrder)


@pytest.mark.parametrize(
    ("kind", "details", "key"),
    [
        ("NEW_ORDER", {"order_type": "LMT", "side": "BUY", "qty": 1, "colour": 1}, "colour"),
        ("NEW_ORDER", {"order_type": "LMT", "qty": 1}, "side"),
        ("NEW_ORDER", {"order_type": "NOPE", "side": "BUY", "qty": 1}, "order_type"),
        ("NEW_ORDER", {"order_type": "LMT", "side": "BUY"}, "qty"),
        (
            "NEW_ORDER",
            {"order_type": 2, "side": 1, "qty": 1, "scaled_limit_price": 5},
            "scaled_limit_price",
        ),
        ("MODIFY_ORDER", {"ogri_cl_order_id": "1"}, "ogri_cl_order_id"),
        ("MODIFY_ORDER", {"qty": 1}, "orig_cl_order_id"),
        ("TELEPORT", {}, "request_type"),
    ],
)
def test_details_errors_name_the_key(kind: str, details: dict[str, object], key: str) -> None:
    with pytest.raises(DetailsError) as info:
        details_to_request(kind, details, account_id=ACC)
    assert info.value.key == key
    assert repr(key) in str(info.value)


def test_format_check_policy_on_a_payload() -> None:
    check = CQGFormatCheck()
    payload = Payload(request=new(qty=0), checks=(CQGFormatCheck.name,))
    assert [v.code for v in check.check(payload, now_ns=NOW)] == ["QTY_NOT_POSITIVE"]
    too_many = Payload(request=new(qty=2**32, order_type=OrderType.MKT))
    assert sorted(v.code for v in check.check(too_many, now_ns=NOW)) == [
        "CQG_QTY",
        "PRICE_NOT_ALLOWED",
    ]
    assert check.check(Payload(request=new()), now_ns=NOW) == []


@pytest.fixture
async def server() -> AsyncIterator[FakeCqgServer]:
    async with fake_server() as srv:
        yield srv


LIMITS = f"""version = 1
[instruments.EP]
max_order_qty = 2
[accounts."{ACC}"]
"""


@pytest.mark.anyio
async def test_ec_api_style_connect_without_limits_is_refused_naming_the_sample(
    server: FakeCqgServer,
) -> None:
    with pytest.raises(ConfigError, match="ec limits sample"):
        async with ConnectCQG(server.url, "trader", "s3cret", account_id=ACCOUNT):
            pytest.fail("connected without a limits file")
    assert server.received == []  # refused before it connected


@pytest.mark.anyio
async def test_ec_api_style_orders_leave_through_the_executor(
    server: FakeCqgServer, tmp_path: Path
) -> None:
    limits = tmp_path / "limits.toml"
    limits.write_text(LIMITS, encoding="utf-8")
    async with ConnectCQG(
        server.url,
        "trader",
        "s3cret",
        account_id=ACCOUNT,
        limits_file=str(limits),
        backoff_seed=1,
        request_timeout=5.0,
    ) as conn:
        order = CQGLiveOrder(conn, symbol_name="EP", request_id=101, account_id=ACCOUNT)
        with pytest.raises(OrderDeniedError) as denied:  # the limits allow 2 lots at most
            await order.send(
                "NEW_ORDER",
                {
                    "cl_order_id": "X1",
                    "order_type": "LMT",
                    "side": "BUY",
                    "qty": 5,
                    "scaled_limit_price": 17000,
                },
            )
        assert denied.value.codes == ("QTY_ABOVE_MAX",)
        assert not any(m.order_requests for m in server.received)  # no order was sent
        sent = await order.send(
            "NEW_ORDER",
            {
                "cl_order_id": "E2",
                "order_type": "LMT",
                "side": "BUY",
                "qty": 1,
                "scaled_limit_price": 17000,
            },
        )
        assert sent.cl_order_id == "E2"
        assert conn.trader is not None
        assert conn.trader.tracker.order("E2") is not None  # the executor tracks what it sent


@pytest.mark.anyio
async def test_ec_api_style_round_trip(server: FakeCqgServer, tmp_path: Path) -> None:
    limits = tmp_path / "limits.toml"
    limits.write_text(LIMITS, encoding="utf-8")
    async with ConnectCQG(
        server.url,
        "trader",
        "s3cret",
        account_id=ACCOUNT,
        limits_file=str(limits),
        backoff_seed=1,
        request_timeout=5.0,
    ) as conn:
        async with conn.session.trades.stream(ACC) as events:
            order = CQGLiveOrder(conn, symbol_name="EP", request_id=100, account_id=ACCOUNT)
            sent = await order.send(
                "NEW_ORDER",
                {
                    "cl_order_id": "E1",
                    "order_type": "LMT",
                    "side": "BUY",
                    "qty": 1,
                    "scaled_limit_price": 17000,  # 17000 × 0.25 = 4250.00
                },
            )
            assert isinstance(sent, NewOrder)
            assert sent.limit_price == Decimal("4250.00")
            with anyio.fail_after(5):
                async for event in events:
                    if getattr(event, "kind", None) is ReportKind.ACCEPTED:
                        break
        history = await MonitorTradeCQG(conn, ACCOUNT).request_historical_orders(
            datetime(2025, 1, 1), datetime(2025, 1, 3)
        )
        assert [r.cl_order_id for r in history] == ["E1"]


# -- recording and replay ---------------------------------------------------------


@pytest.mark.anyio
async def test_recording_holds_every_frame_and_replays(
    server: FakeCqgServer, tmp_path: Path
) -> None:
    path = tmp_path / "wire.rec"
    async with CqgSession(settings_for(server, record_path=str(path))) as session:
        await session.resolve("EP")
    frames = list(read_recording(path))
    assert frames[0].direction == "out"
    assert frames[1].direction == "in"
    assert sum(f.direction == "out" for f in frames) == len(server.received)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert all(b.ts_ns >= a.ts_ns for a, b in itertools.pairwise(frames))
    logons = server.logons
    answers = await replay_client_frames(path, server.url, password=Secret(PASSWORD), settle_s=0.2)
    assert server.logons == logons + 1
    assert ServerMsg.FromString(answers[0]).logon_result.result_code == 0


# -- channels and the line ---------------------------------------------------------


@pytest.mark.anyio
async def test_channel_batches_wake_the_consumer_once_and_drop_the_oldest() -> None:
    channel: MarketChannel[int] = MarketChannel(4)  # the channel cqg streams market data on
    got: list[int] = []

    async def consume() -> None:
        async for item in channel:
            got.append(item)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await anyio.wait_all_tasks_blocked()  # the consumer waits
        channel.push_many([1, 2])
        await anyio.wait_all_tasks_blocked()
        assert got == [1, 2]
        channel.push_many(range(10, 16))  # six into four places: the two oldest go
        channel.push(16)  # and one more
        assert channel.dropped == 3
        channel.close()
    assert got == [1, 2, 13, 14, 15, 16]
    channel.push(99)  # closed: ignored
    assert len(channel) == 0


@pytest.mark.anyio
async def test_frames_leave_in_send_order_whether_written_inline_or_queued() -> None:
    received: list[bytes] = []
    done = anyio.Event()

    async def collect(ws: ServerConnection) -> None:
        async for frame in ws:
            assert isinstance(frame, bytes)
            received.append(frame)
            if len(received) == 300:
                done.set()

    async with serve(collect, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        conn = await open_connection(f"ws://127.0.0.1:{port}", queue_size=512)
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.run, lambda frame: None)
            rng = random.Random(7)
            sent = []
            for n in range(300):
                frame = n.to_bytes(2, "big")
                sent.append(frame)
                if rng.random() < 0.3:
                    assert conn.send_nowait(frame)  # to the writer task
                else:
                    await conn.send(frame)  # inline when nothing is queued
            with anyio.fail_after(5):
                await done.wait()
            await conn.close()
    assert received == sent
    assert conn.frames_out == 300
