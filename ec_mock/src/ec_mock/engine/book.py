"""One instrument's central limit order book: price levels, FIFO queues, stops, AON.

Price-time priority over integer ticks. Cancels are lazy: a queue entry is
``(seq, order)`` and is live only while ``order.seq == seq`` and the order still
rests, so removing an order from the middle of a queue is O(1); dead entries are
dropped when they reach the front. Each level keeps its live quantity and count,
so the touch and the depth never look at dead entries.

An iceberg order rests with only its display slice in the level's ``qty`` (what the
touch and the depth show); the rest of it is in the level's ``hidden``, which an
aggressor can still reach (CME Globex: hidden quantity trades, it is not shown).

All-or-none orders never rest in the displayed levels (a displayed AON could
leave the book crossed); they wait in ``aon`` and take liquidity when they can
be filled whole.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import TYPE_CHECKING, final

import msgspec

from ec_mock.engine.records import OrderRecord

if TYPE_CHECKING:
    from ec_mock.engine.ledger import PositionLedger

__all__ = ["BookView", "DepthLevel", "Level", "OrderBook"]


class Level:
    """One price level: its FIFO queue and live totals (subclassed only by the OFF_BOOK
    sentinel, which cannot be changed)."""

    __slots__ = ("count", "hidden", "orders", "price", "qty")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: deque[tuple[int, OrderRecord]] = deque()
        self.qty = 0  # live displayed quantity
        self.hidden = 0  # live quantity of icebergs beyond their display slices
        self.count = 0  # live orders

    def live(self) -> list[OrderRecord]:
        return [o for seq, o in self.orders if o.seq == seq and o.resting]


@final
class _OffBook(Level):
    """The level of no book: empty, and any change to it raises (it is shared by every
    order out of the book, so one wrong write would show in all of them)."""

    __slots__ = ()

    def __init__(self) -> None:
        for name, value in (("price", 0), ("orders", ()), ("qty", 0), ("hidden", 0), ("count", 0)):
            object.__setattr__(self, name, value)  # an empty tuple: no append, no popleft

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            f"OFF_BOOK is not a price level: an order out of the book has no {name} to change"
        )

    def __repr__(self) -> str:
        return "OFF_BOOK"

    def __reduce__(self) -> str:
        return "OFF_BOOK"  # copies and pickles are the one sentinel, never a new level


OFF_BOOK: Level = _OffBook()
"""Where an order out of the book points (its ``level``): not at the level it left, so an
emptied level dropped from the book is freed with its queue although the exchange keeps
every order's record (a replay that places and cancels all day kept one per order).
Immutable: writing any of its fields raises ``AttributeError``."""


class DepthLevel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    price: int
    qty: int
    orders: int


class BookView(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Depth of one book at a moment: best first on both sides, prices in ticks."""

    symbol: str
    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]


@final
class OrderBook:
    __slots__ = (
        "aon",
        "ask_keys",
        "asks",
        "bid_keys",
        "bids",
        "buy_stops",
        "holders",
        "open_orders",
        "sell_stops",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        # Sorted so that the best price is always last: bids by price, asks by -price.
        self.bid_keys: list[int] = []
        self.ask_keys: list[int] = []
        self.buy_stops: list[OrderRecord] = []
        self.sell_stops: list[OrderRecord] = []
        self.aon: list[OrderRecord] = []
        self.open_orders: dict[int, OrderRecord] = {}  # every open order of the symbol, by oid
        # account -> its position in the symbol, while not flat: re-marked on each print
        self.holders: dict[str, PositionLedger] = {}

    # -- touch -------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        return self.bid_keys[-1] if self.bid_keys else None

    def best_ask(self) -> int | None:
        return -self.ask_keys[-1] if self.ask_keys else None

    def best(self) -> tuple[int | None, int | None]:
        """``(best_bid(), best_ask())`` in one call (the replay venue asks per re-read)."""
        bids, asks = self.bid_keys, self.ask_keys  # best last (asks negated)
        return (bids[-1] if bids else None), (-asks[-1] if asks else None)

    def touch(self) -> tuple[int | None, int, int | None, int]:
        bid = self.bid_keys[-1] if self.bid_keys else None
        ask = -self.ask_keys[-1] if self.ask_keys else None
        return (
            bid,
            self.bids[bid].qty if bid is not None else 0,
            ask,
            self.asks[ask].qty if ask is not None else 0,
        )

    # -- resting orders ----------------------------------------------------------------
    def rest(self, order: OrderRecord, seq: int) -> None:
        """Append ``order`` at the back of its price level with priority ``seq``.

        Every passive order comes through here (the engine's hot path: keep it lean).
        An iceberg shows a slice of at most its display quantity (the one it had, when
        restored from a snapshot with one on display).
        """
        price = order.price
        assert price is not None
        order.seq = seq
        order.resting = True
        if order.side > 0:
            level = self.bids.get(price)
            if level is None:
                level = self.bids[price] = Level(price)
                insort(self.bid_keys, price)
        else:
            level = self.asks.get(price)
            if level is None:
                level = self.asks[price] = Level(price)
                insort(self.ask_keys, -price)
        level.orders.append((seq, order))
        order.level = level
        remaining = order.qty - order.filled
        if order.display:
            shown = order.shown
            if not 0 < shown <= remaining:
                shown = order.shown = min(order.display, remaining)
            level.qty += shown
            level.hidden += remaining - shown
        else:
            level.qty += remaining
        level.count += 1

    def unrest(self, order: OrderRecord) -> None:
        """Take ``order`` out of its level (lazily); drop the level if it empties."""
        if not order.resting:
            return
        order.resting = False
        level = order.level
        order.level = OFF_BOOK
        remaining = order.qty - order.filled
        if order.display:
            level.qty -= order.shown
            level.hidden -= remaining - order.shown
            order.shown = 0
        else:
            level.qty -= remaining
        level.count -= 1
        if level.count == 0:
            self.drop_level(order.side, level.price)

    def trade_front(self, order: OrderRecord, qty: int, available: int) -> bool:
        """The order at the front of its level trades ``qty`` of the ``available`` it has
        left (an iceberg: of its slice on display); out of the book when that is all of it.

        Returns whether an iceberg's slice is gone with quantity left: it then shows its
        next slice (:meth:`show_next_slice`). The level stays, even empty: the matching
        loop drops it when it leaves it.
        """
        level = order.level
        level.qty -= qty
        if qty == available:
            order.resting = False
            order.level = OFF_BOOK
            level.orders.popleft()
            level.count -= 1
            return False
        if order.display:
            shown = order.shown = order.shown - qty
            if not shown:
                level.orders.popleft()
                return True
        return False

    def show_next_slice(self, order: OrderRecord, left: int, seq: int) -> None:
        """CME Globex: an iceberg whose slice was filled with ``left`` to go shows its next
        slice (at most its display quantity) at the back of its level, priority ``seq``."""
        level = order.level
        display = order.display
        fresh = order.shown = display if display < left else left
        level.qty += fresh
        level.hidden -= fresh
        order.seq = seq
        level.orders.append((seq, order))

    def drop_level(self, side: int, price: int) -> None:
        """Remove the (empty) level at ``price`` on ``side`` (+1 bids, -1 asks).

        The best level is the last key (a pop); any other is found by bisection, so a
        cancel deep in a book of many levels costs O(log n) comparisons, not a scan.
        A key the sorted keys lack is a ValueError, as ``list.remove`` raised.
        """
        if side > 0:
            del self.bids[price]
            keys, key = self.bid_keys, price
        else:
            del self.asks[price]
            keys, key = self.ask_keys, -price
        if keys[-1] == key:
            keys.pop()
            return
        at = bisect_left(keys, key)
        if at == len(keys) or keys[at] != key:
            raise ValueError(f"price key {key} is not in the book's keys")
        del keys[at]

    def reduce_resting(self, order: OrderRecord, by: int) -> None:
        """Lower a resting order's quantity in place (keeps its priority).

        An iceberg loses hidden quantity first, then its slice on display (a quantity
        decrease; fills take from the slice: :meth:`reduce_shown`).
        """
        level = order.level
        if not order.display:
            level.qty -= by
            return
        hidden = order.qty - order.filled - order.shown
        from_hidden = by if by < hidden else hidden
        level.hidden -= from_hidden
        from_shown = by - from_hidden
        level.qty -= from_shown
        order.shown -= from_shown

    def reduce_shown(self, order: OrderRecord, by: int) -> None:
        """An iceberg's slice on display gives ``by`` (less than the slice) to a fill."""
        order.level.qty -= by
        order.shown -= by

    def level(self, side: int, price: int) -> Level | None:
        return (self.bids if side > 0 else self.asks).get(price)

    # -- stops -------------------------------------------------------------------------
    def add_stop(self, order: OrderRecord) -> None:
        (self.buy_stops if order.side > 0 else self.sell_stops).append(order)

    def remove_stop(self, order: OrderRecord) -> None:
        stops = self.buy_stops if order.side > 0 else self.sell_stops
        if order in stops:
            stops.remove(order)

    def triggered_stops(self, last: int) -> list[OrderRecord]:
        """Stops that a print at ``last`` fires, removed from the book, in priority order.

        A buy stop fires when the market trades at or above its stop, a sell stop at
        or below. Among those fired, the stop nearest the market goes first, then time.
        """
        fired: list[OrderRecord] = []
        if self.buy_stops:
            hit = [o for o in self.buy_stops if o.stop is not None and o.stop <= last]
            if hit:
                self.buy_stops = [o for o in self.buy_stops if o not in hit]
                hit.sort(key=lambda o: (o.stop, o.seq))
                fired.extend(hit)
        if self.sell_stops:
            hit = [o for o in self.sell_stops if o.stop is not None and o.stop >= last]
            if hit:
                self.sell_stops = [o for o in self.sell_stops if o not in hit]
                hit.sort(key=lambda o: (-(o.stop or 0), o.seq))
                fired.extend(hit)
        return fired

    # -- views -------------------------------------------------------------------------
    def available(self, side: int, limit: int | None, wanted: int) -> int:
        """What an aggressor on ``side`` could take at ``limit`` or better, capped at ``wanted``
        (hidden iceberg quantity included: an aggressor reaches it)."""
        total = 0
        if side > 0:
            for key in reversed(self.ask_keys):
                price = -key
                if limit is not None and price > limit:
                    break
                level = self.asks[price]
                total += level.qty + level.hidden
                if total >= wanted:
                    return wanted
        else:
            for price in reversed(self.bid_keys):
                if limit is not None and price < limit:
                    break
                level = self.bids[price]
                total += level.qty + level.hidden
                if total >= wanted:
                    return wanted
        return total

    def view(self, depth: int | None = None) -> BookView:
        bid_prices = list(reversed(self.bid_keys))
        ask_prices = [-k for k in reversed(self.ask_keys)]
        if depth is not None:
            bid_prices = bid_prices[:depth]
            ask_prices = ask_prices[:depth]
        return BookView(
            symbol=self.symbol,
            bids=tuple(
                DepthLevel(price=p, qty=self.bids[p].qty, orders=self.bids[p].count)
                for p in bid_prices
            ),
            asks=tuple(
                DepthLevel(price=p, qty=self.asks[p].qty, orders=self.asks[p].count)
                for p in ask_prices
            ),
        )

    def resting_orders(self) -> list[OrderRecord]:
        """Every live resting order, bids best first then asks best first, FIFO per level."""
        out: list[OrderRecord] = []
        for price in reversed(self.bid_keys):
            out.extend(self.bids[price].live())
        for key in reversed(self.ask_keys):
            out.extend(self.asks[-key].live())
        return out
