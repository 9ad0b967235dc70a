"""The cqg client's history: the same bars and ticks as the mock vendor's, over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from ec_core.clock import ManualClock
from ec_core.data import Timeframe
from ec_core.errors import (
    HistoryError,
    HistoryNotEntitledError,
    HistoryRateLimitError,
    HistoryRequestError,
    HistoryTooFarBackError,
)
from ec_core.history import HistoryFeed
from ec_core.model import Quote, Side, Trade
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from ec_cqg.client.core.history import bar_unit_of, bars_of, ticks_of
from ec_cqg.protocol.correlation import Answer, ItemKind, PendingRequest, RequestKind
from ec_cqg.protocol.pb import historical_2
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server import CqgDialect
from ec_cqg.server.config import ServerConfig
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD = "hist", "hist-password"
MINUTE = 60 * 10**9


@pytest.fixture
def venue() -> MockVenue:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=12, accounts=["H-1"])
    venue.step(4 * 600 + 5)  # four minutes and a half second of a simulated market
    return venue


@pytest.fixture
async def sessions(venue: MockVenue) -> AsyncIterator[tuple[Any, Any]]:
    host = PluginHost.load()
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    dialect = CqgDialect(
        announce=lambda _: None, config=ServerConfig(history_chunk=50, history_max_items=300)
    )
    async with dialect.serve(venue, options) as endpoint:
        settings = {"url": endpoint.url, "user": USER, "password": Secret(PASSWORD)}
        local = {"venue": venue, "account_id": "H-1"}
        async with (
            host.open_session("cqg", settings) as cqg,
            host.open_session("mock", local) as mock,
        ):
            yield cqg, mock


@pytest.mark.anyio
async def test_bars_and_ticks_over_cqg_equal_the_mock_vendors(
    sessions: tuple[Any, Any], venue: MockVenue
) -> None:
    cqg, mock = sessions
    assert isinstance(cqg.history, HistoryFeed)
    instrument = await cqg.resolve("EP")
    local = await mock.resolve("EP")
    bars = await cqg.history.bars(instrument, "1m", SIM_START_NS)
    expected = await mock.history.bars(local, "1m", SIM_START_NS)
    assert list(bars) == list(expected)
    assert len(bars) == 4
    # paginated: 300 items a request, many requests; the seam is a whole millisecond
    ticks = await cqg.history.ticks(instrument, SIM_START_NS)
    seam = ticks.up_to_ns
    assert seam == venue.clock.now_ns() // 1_000_000 * 1_000_000
    theirs = await mock.history.ticks(local, SIM_START_NS, seam)
    # every print keeps its aggressor side (the trade quote's sales_condition, as live)
    trades = [(t.ts_ns, t.price, t.size, t.aggressor) for t in ticks if isinstance(t, Trade)]
    assert trades == [
        (t.ts_ns, t.price, t.size, t.aggressor) for t in theirs if isinstance(t, Trade)
    ]
    assert trades
    assert {aggressor for *_, aggressor in trades} == {Side.BUY, Side.SELL}
    # CQG sends each side of the best bid/ask apart: a quote keeps the other side as it stood
    quotes = [q for q in ticks if isinstance(q, Quote)]
    assert quotes
    assert all(q.bid is None or q.ask is None or q.bid < q.ask for q in quotes)
    stamps = [q.ts_ns for q in quotes]
    assert stamps == sorted(stamps)
    assert len(ticks) > 300  # more than one page


@pytest.mark.anyio
async def test_refusals_are_typed_errors(sessions: tuple[Any, Any], venue: MockVenue) -> None:
    cqg, _ = sessions
    instrument = await cqg.resolve("EP")
    with pytest.raises(HistoryTooFarBackError) as far:
        await cqg.history.bars(instrument, "1m", SIM_START_NS - 40 * 86_400 * 10**9)
    assert far.value.code == 105
    assert far.value.horizon_ns is None
    with pytest.raises(HistoryRequestError) as seconds:
        await cqg.history.bars(instrument, "1s", SIM_START_NS)
    assert seconds.value.field == "timeframe"


def _answer(kind: ItemKind, item: Any) -> Answer:
    pending = PendingRequest(kind=RequestKind.TIME_BAR, key=1, deadline_ns=0)
    return Answer(request=pending, kind=kind, item=item, final=True)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (103, HistoryNotEntitledError),
        (105, HistoryTooFarBackError),
        (109, HistoryRateLimitError),
        (110, HistoryError),
    ],
)
def test_status_codes_map_to_typed_errors(code: int, error: type[Exception]) -> None:
    report = historical_2.TimeBarReport(request_id=1, status_code=code)
    report.details.text = "no"
    with pytest.raises(error) as caught:
        bars_of(
            [_answer(ItemKind.TIME_BAR_REPORT, report)],
            symbol="EP",
            timeframe=Timeframe.parse("1m"),
            prices=PriceScale(correct_price_scale=Decimal("0.01"), tick_size=Decimal("0.25")),
            base=BaseTime("2024-01-10T00:00:00"),
            start_ns=0,
            calendar=None,
        )
    assert getattr(caught.value, "code", None) == code


def test_units_and_best_bid_ask_merge() -> None:
    assert bar_unit_of("EP", Timeframe.parse("5m")) == (8, 5)
    assert bar_unit_of("EP", Timeframe.parse("2h")) == (7, 2)
    assert bar_unit_of("EP", Timeframe.parse("1d")) == (6, 1)
    base = BaseTime("2024-01-10T00:00:00")
    report = historical_2.TimeAndSalesReport(request_id=1, result_code=0, up_to_utc_time=10)
    report.quotes.add(type=1, scaled_price=450000, quote_utc_time=5).volume.significand = 3
    report.quotes.add(type=2, scaled_price=450025).volume.significand = 4
    report.quotes.add(type=0, scaled_price=450025, quote_utc_time=6).volume.significand = 1
    page = ticks_of(
        [_answer(ItemKind.TIME_AND_SALES_REPORT, report)],
        symbol="EP",
        prices=PriceScale(correct_price_scale=Decimal("0.01"), tick_size=Decimal("0.25")),
        base=base,
        start_ns=base.to_ns(0),
    )
    (quote, trade) = page.events
    assert isinstance(quote, Quote)
    assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (18000, 3, 18001, 4)
    assert isinstance(trade, Trade)
    assert (trade.price, trade.size, trade.ts_ns) == (18001, 1, base.to_ns(6))
    assert page.up_to_ns == base.to_ns(10)
    assert trade.aggressor is None  # no sales_condition: the side is unknown


@pytest.mark.parametrize(
    ("condition", "aggressor"),
    [(4, Side.BUY), (5, Side.SELL), (2, Side.BUY), (1, Side.SELL), (3, None)],
)
def test_a_history_trade_takes_its_aggressor_from_the_sales_condition(
    condition: int, aggressor: Side | None
) -> None:
    base = BaseTime("2024-01-10T00:00:00")
    report = historical_2.TimeAndSalesReport(request_id=1, result_code=0, up_to_utc_time=10)
    quote = report.quotes.add(type=0, scaled_price=450025, quote_utc_time=6)
    quote.sales_condition = condition
    quote.volume.significand = 2
    page = ticks_of(
        [_answer(ItemKind.TIME_AND_SALES_REPORT, report)],
        symbol="EP",
        prices=PriceScale(correct_price_scale=Decimal("0.01"), tick_size=Decimal("0.25")),
        base=base,
        start_ns=base.to_ns(0),
    )
    (trade,) = page.events
    assert isinstance(trade, Trade)
    assert trade.aggressor is aggressor
