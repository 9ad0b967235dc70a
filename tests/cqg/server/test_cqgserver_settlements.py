"""Market-data levels 5 (settlements) and 6 (end-of-day values), and the settlement in the
other levels, served from the engine's daily settlements (issue 12 §4, issue 17 item 8)."""

from __future__ import annotations

from cqgserver_support import Client, make_server, make_venue
from ec_core.model import Trade
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, market_data_2

_Q = market_data_2.Quote
_SCALE = 25  # EP: tick 0.25 at price scale 0.01
HOUR = 3_600_000_000_000
TO_CLOSE = 7 * HOUR  # the venue starts at 09:00 CT (plus 2 s of steps): 16:00 CT is within


def _subscribe(client: Client, contract_id: int, level: int) -> list[ServerMsg]:
    msg = ClientMsg()
    msg.market_data_subscriptions.add(contract_id=contract_id, level=level, request_id=7)
    return client.send(msg)


def _setup(level: int) -> tuple[Client, int, market_data_2.RealTimeMarketData]:
    client = Client(make_server(make_venue()))
    client.logon()
    contract_id = client.contract_id("EP")
    status, snapshot = _subscribe(client, contract_id, level)
    (answer,) = status.market_data_subscription_statuses
    assert (answer.status_code, answer.level, answer.request_id) == (0, level, 7)
    (data,) = snapshot.real_time_market_data
    assert data.is_snapshot
    assert data.IsInitialized()
    return client, contract_id, data


def _updates(client: Client) -> list[market_data_2.RealTimeMarketData]:
    return [d for m in client.collect() for d in m.real_time_market_data]


def test_level_5_sends_the_settlement_of_the_close_and_nothing_else() -> None:
    client, contract_id, snapshot = _setup(5)
    assert not snapshot.quotes  # nothing settled yet, and no trades at this level
    assert not snapshot.market_values[0].HasField("scaled_settlement")
    venue = client.server.venue
    venue.step(30)  # the market trades: a level-5 subscriber hears nothing of it
    assert not _updates(client)
    venue.advance(TO_CLOSE)  # 16:00 CT: the day settles
    settlement = venue.exchange.settlement("EP")
    assert settlement is not None
    (update,) = _updates(client)
    assert (update.contract_id, update.is_snapshot) == (contract_id, False)
    assert [(q.type, q.scaled_price) for q in update.quotes] == [
        (_Q.TYPE_SETTLEMENT, settlement.ticks * _SCALE)
    ]
    assert update.market_values[0].scaled_settlement == settlement.ticks * _SCALE
    # a new snapshot (resubscribing) is of the next trading day: yesterday's settlement
    _status, again = _subscribe(client, contract_id, 5)
    (data,) = again.real_time_market_data
    assert data.quotes[0].type == _Q.TYPE_SETTLEMENT
    values = data.market_values[0]
    assert values.scaled_yesterday_settlement == settlement.ticks * _SCALE
    assert not values.HasField("scaled_settlement")


def test_level_6_serves_the_days_figures_from_the_tape_and_its_final_values() -> None:
    client, _contract_id, snapshot = _setup(6)
    venue = client.server.venue
    trades = [e for e in venue.tape.events("EP", 0, 2**62) if isinstance(e, Trade)]
    assert trades, "the simulator printed trades before the subscription"
    assert not snapshot.quotes  # end-of-day values only
    values = snapshot.market_values[0]
    prices = [t.price * _SCALE for t in trades]
    assert (values.scaled_open_price, values.scaled_high_price, values.scaled_low_price) == (
        prices[0],
        max(prices),
        min(prices),
    )
    assert values.scaled_last_trade_price == prices[-1]
    assert values.total_volume.significand == sum(t.size for t in trades)
    assert values.tick_volume == len(trades)
    venue.step(30)
    venue.advance(TO_CLOSE)
    settlement = venue.exchange.settlement("EP")
    assert settlement is not None
    (update,) = _updates(client)
    assert not update.quotes
    final = update.market_values[0]
    day = [e for e in venue.tape.events("EP", 0, 2**62) if isinstance(e, Trade)]
    assert final.scaled_settlement == settlement.ticks * _SCALE
    assert final.scaled_close_price == day[-1].price * _SCALE
    assert final.total_volume.significand == sum(t.size for t in day)


def test_trading_levels_carry_the_settlement_too() -> None:
    """Level 1 is "trades and settlements": a level-3 subscriber gets the settlement."""
    client, _contract_id, _snapshot = _setup(3)
    venue = client.server.venue
    venue.advance(TO_CLOSE)
    settlement = venue.exchange.settlement("EP")
    assert settlement is not None
    settled = [q for d in _updates(client) for q in d.quotes if q.type == _Q.TYPE_SETTLEMENT]
    assert [q.scaled_price for q in settled] == [settlement.ticks * _SCALE]
    _status, again = _subscribe(client, _contract_id, 3)
    values = again.real_time_market_data[0].market_values[0]
    assert values.scaled_yesterday_settlement == settlement.ticks * _SCALE


def test_a_new_level_replaces_the_contracts_subscription() -> None:
    client, contract_id, _snapshot = _setup(6)
    _subscribe(client, contract_id, 3)
    client.server.venue.step(30)
    assert any(q.type == _Q.TYPE_TRADE for d in _updates(client) for q in d.quotes)
    _subscribe(client, contract_id, 5)
    client.server.venue.step(30)
    assert not _updates(client)
