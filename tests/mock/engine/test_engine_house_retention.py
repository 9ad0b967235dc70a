"""The house keeps only its open orders (``retire_final_orders``).

The simulated market's house account places an order or two per quote and nobody
queries it: a paper-trading server running for days, or a full-book replay, kept every
one of its finished orders. A user's finished orders stay queryable as before.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from ec_core.model import CancelOrder, ModifyOrder, OrderState, Quote, Side, Trade
from ec_mock.engine import Exchange, ExchangeState
from ec_mock.market import HOUSE_ACCOUNT, MarketSimulator, ReplayFeeder
from ec_mock.vendor.venue import MockVenue
from engine_support import ES, SECOND, T0, make_exchange, order

FOREVER = 2**62


def kept_orders(exchange: Exchange, account_id: str) -> int:
    """How many order records the exchange holds for the account (open or not)."""
    return sum(1 for o in exchange.snapshot().orders if o.account_id == account_id)


def test_a_finished_order_of_a_retiring_account_is_forgotten() -> None:
    ex, _, rec = make_exchange((ES,), accounts=("A",))
    ex.open_account("H", unlimited=True, retire_final_orders=True)
    ex.submit(order("h1", Side.SELL, 2, "4000.00", account="H"))
    ex.submit(order("h2", Side.SELL, 1, "4001.00", account="H"))
    ex.submit(order("a1", Side.BUY, 2, "4000.00"))  # fills h1 in full
    assert rec.last("h1").state is OrderState.FILLED  # its reports were sent as ever
    assert ex.order_status("H", "h1") is None
    assert not ex.client_id_used("H", "h1")
    status = ex.order_status("H", "h2")
    assert status is not None
    assert status.state is OrderState.WORKING
    ex.submit(CancelOrder(account_id="H", symbol="ES", orig_cl_order_id="h2", cl_order_id="c2"))
    assert rec.last("c2").state is OrderState.CANCELLED
    for cl in ("h2", "c2"):
        assert ex.order_status("H", cl) is None
    assert kept_orders(ex, "H") == 0
    # the user's filled order is still there
    mine = ex.order_status("A", "a1")
    assert mine is not None
    assert mine.state is OrderState.FILLED
    assert kept_orders(ex, "A") == 1


def test_every_id_of_a_renamed_chain_is_forgotten() -> None:
    ex, _, _ = make_exchange((ES,), accounts=())
    ex.open_account("H", unlimited=True, retire_final_orders=True)
    ex.submit(order("h1", Side.BUY, 5, "3990.00", account="H"))
    for n, price in enumerate(("3990.25", "3990.50", "3990.75"), start=2):
        ex.submit(
            ModifyOrder(
                account_id="H",
                symbol="ES",
                orig_cl_order_id=f"h{n - 1}",
                cl_order_id=f"h{n}",
                limit_price=Decimal(price),
            )
        )
    assert all(ex.client_id_used("H", f"h{n}") for n in range(1, 5))
    ex.submit(CancelOrder(account_id="H", symbol="ES", orig_cl_order_id="h4", cl_order_id="h5"))
    assert [n for n in range(1, 6) if ex.client_id_used("H", f"h{n}")] == []
    assert kept_orders(ex, "H") == 0


def test_a_modify_that_ends_the_order_forgets_it_too() -> None:
    ex, _, rec = make_exchange((ES,), accounts=("A",))
    ex.open_account("H", unlimited=True, retire_final_orders=True)
    ex.submit(order("h1", Side.SELL, 3, "4000.00", account="H"))
    ex.submit(order("a1", Side.BUY, 1, "4000.00"))
    ex.submit(
        ModifyOrder(account_id="H", symbol="ES", orig_cl_order_id="h1", cl_order_id="h2", qty=1)
    )
    assert rec.last("h2").state is OrderState.FILLED
    assert not ex.client_id_used("H", "h1")
    assert not ex.client_id_used("H", "h2")


def test_a_reject_of_a_retiring_account_is_not_kept() -> None:
    ex, _, rec = make_exchange((ES,), accounts=())
    ex.open_account("H", unlimited=True, retire_final_orders=True)
    ex.submit(order("h1", Side.BUY, 1, "4000.10", account="H"))  # off the tick
    assert rec.last("h1").state is OrderState.REJECTED
    assert ex.order_status("H", "h1") is None


def test_a_snapshot_keeps_the_accounts_choice() -> None:
    ex, clock, _ = make_exchange((ES,), accounts=("A",))
    ex.open_account("H", unlimited=True, retire_final_orders=True)
    data = msgspec.json.encode(ex.snapshot())
    restored = Exchange.restore(msgspec.json.decode(data, type=ExchangeState), clock=clock)
    restored.submit(order("h1", Side.SELL, 1, "4000.00", account="H"))
    restored.submit(order("a1", Side.BUY, 1, "4000.00"))
    assert restored.order_status("H", "h1") is None
    assert restored.order_status("A", "a1") is not None
    # a save file from before the choice existed reads as keeping every order
    old = msgspec.json.decode(data)
    for account in old["accounts"]:
        del account["retire_final_orders"]
    legacy = msgspec.json.decode(msgspec.json.encode(old), type=ExchangeState)
    assert all(not a.retire_final_orders for a in legacy.accounts)


def test_a_long_simulated_market_keeps_only_the_open_house_orders() -> None:
    ex, clock, rec = make_exchange((ES,), accounts=("U",))
    sim = MarketSimulator(ex, seed=3, start_prices={"ES": Decimal("4500")}, depth=3)
    counts = []
    for _ in range(4):
        for _step in range(500):
            clock.advance(SECOND)
            ex.advance_to(clock.now_ns())
            sim.step()
        counts.append(kept_orders(ex, HOUSE_ACCOUNT))
    placed = {r.cl_order_id for r in rec.reports() if r.account_id == HOUSE_ACCOUNT}
    assert len(placed) > 1_000  # the house placed this many orders
    # one per wanted level (3 each side) at most, however long it runs
    assert max(counts) <= 6, counts
    assert counts[-1] == len(ex.open_orders(HOUSE_ACCOUNT))


def test_a_long_book_replay_keeps_only_the_house_touch() -> None:
    ex, _, _ = make_exchange((ES,), accounts=("U",))
    feeder = ReplayFeeder(ex)
    ex.submit(order("u1", Side.BUY, 1, "3990.00", account="U"))
    ex.submit(CancelOrder(account_id="U", symbol="ES", orig_cl_order_id="u1", cl_order_id="x1"))
    ticks: list[Quote | Trade] = []
    for n in range(3_000):
        bid = 16_000 + (n // 3) % 40 - 20
        ts = T0 + n * 1_000
        ticks.append(Quote(symbol="ES", ts_ns=ts, bid=bid, bid_size=5, ask=bid + 1, ask_size=7))
        if n % 5 == 0:
            ticks.append(Trade(symbol="ES", ts_ns=ts, price=bid + 1, size=2))
    feeder.feed_all(ticks)
    assert kept_orders(ex, HOUSE_ACCOUNT) <= 2  # the house's bid and ask
    # the user's cancelled order answers as before
    status = ex.order_status("U", "x1")
    assert status is not None
    assert status.state is OrderState.CANCELLED
    assert [r.cl_order_id for r in ex.historical_orders("U", 0, FOREVER)] == ["x1"]


def test_the_paper_trading_venue_keeps_only_the_open_house_orders() -> None:
    """``ec mock serve``'s venue: the market simulator steps for as long as it runs."""
    venue = MockVenue.create(seed=2, accounts=("U",), market=True)
    venue.step(1_500)
    house = kept_orders(venue.exchange, HOUSE_ACCOUNT)
    assert 0 < house <= 2 * 5 * len(venue.exchange.instruments())
    assert house == len(venue.exchange.open_orders(HOUSE_ACCOUNT))


def test_the_paper_trading_venue_keeps_no_event_log() -> None:
    """Its engine's events go to the venue, which hears each one; a log of them all grew
    by ~7 KB per simulator step for as long as ``ec mock serve`` ran."""
    venue = MockVenue.create(seed=2, accounts=("U",), market=True)
    venue.step(200)
    symbol = venue.exchange.instruments()[0].symbol
    assert venue.tape.events(symbol, 0, FOREVER)  # the venue heard the market
    assert venue.exchange.event_log == []
    for keep_state in (True, False):
        venue.restart(keep_state=keep_state)
        venue.step(50)
        assert venue.exchange.event_log == []


def test_a_venue_asked_to_record_keeps_its_event_log_across_restarts() -> None:
    venue = MockVenue.create(seed=2, accounts=("U",), market=True, record=True)
    venue.step(20)
    assert venue.exchange.event_log
    venue.restart(keep_state=True)
    venue.step(20)
    assert venue.exchange.recording
    assert venue.exchange.event_log
