"""The client's Sans-I/O protocol core wired to the CQG-dialect server's Sans-I/O core.

No sockets, no event loop: :class:`Loop` carries frames between a
:class:`~ec_cqg.client.core.CqgClientProtocol` and a
:class:`~ec_cqg.server.core.ConnectionCore` of the mock venue, so a test decides the
fate of every server frame (deliver, drop, duplicate, hold back and deliver later) and
of every order frame the client sends, and compares the client's view with the venue's.
The venue's manual clock is the only time; it advances only when the test says so.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    Instrument,
    NewOrder,
    OrderRequest,
    OrderType,
    Side,
    TradeEvent,
)
from ec_cqg.client.core import Call, CqgClientProtocol, ListSink
from ec_cqg.protocol.codec import decode_client
from ec_cqg.server.core import ConnectionCore, CqgServerCore
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

T = TypeVar("T")
USER, PASSWORD = "alice", "s3cret-pw"
VENUE_ACCOUNT = "TEST-1"
HOUSE = "HOUSE"  # the market simulator's account
SYMBOL = "EP"
Fate = Callable[[bytes], str]  # "deliver" | "drop" | "dup" | "hold"


def _accepts(user: str, password: str) -> bool:
    return user == USER and password == PASSWORD


class Loop:
    """One client core, one venue, and the line between them (see the module docstring)."""

    def __init__(self, *, seed: int = 3) -> None:
        self.venue = MockVenue.create(
            seed=seed, clock=ManualClock(SIM_START_NS), accounts=[VENUE_ACCOUNT], market=True
        )
        self.venue.step(20)  # a book to trade against
        self.server = CqgServerCore(self.venue, _accepts)
        self.core = CqgClientProtocol(cl_prefix="p-", request_timeout_s=30.0)
        self.sink: ListSink[TradeEvent] = ListSink()
        self.conn: ConnectionCore | None = None
        self.sent: list[bytes] = []  # every frame the client put on a line
        self.orders_built = 0  # order requests the test asked the client to build
        self.held: list[bytes] = []  # server frames held back (delivered later: reorder)
        self.account = ""  # the CQG account id of VENUE_ACCOUNT
        self.instrument: Instrument | None = None
        self.lines = 0

    def now(self) -> int:
        return self.venue.clock.now_ns()

    # -- the line --------------------------------------------------------------------

    def _to_server(self, frame: bytes) -> None:
        assert self.conn is not None
        self.sent.append(frame)
        self.conn.receive(frame)

    def pump(self, fate: Fate | None = None) -> None:
        """Move frames both ways until nothing moves; ``fate`` decides each server frame."""
        conn = self.conn
        assert conn is not None
        for _ in range(1000):
            frames = conn.data_to_send()
            out = self.core.data_to_send()
            if not frames and not out:
                return
            for frame in out:
                self._to_server(frame)
            for frame in frames:
                choice = "deliver" if fate is None else fate(frame)
                if choice == "hold":
                    self.held.append(frame)
                    continue
                if choice == "drop":
                    continue
                self.core.receive(frame, self.now())
                if choice == "dup":
                    self.core.receive(frame, self.now())
            self.core.calls_done()
        raise AssertionError("the line never settled")

    def release_held(self) -> None:
        """Deliver the held-back frames, newest first (after what overtook them)."""
        held, self.held = self.held, []
        for frame in reversed(held):
            self.core.receive(frame, self.now())

    def ask(self, started: tuple[Call[T], bytes]) -> T:
        """Send a call's frame over a faithful line and return its result."""
        call, frame = started
        self._to_server(frame)
        self.pump()
        assert call.done, "the server did not answer"
        return call.value()

    def deadline(self) -> int:
        return self.now() + 30_000_000_000

    # -- the session's steps ---------------------------------------------------------

    def connect(self) -> bool:
        """Open a line and log on (restore when the core holds a token); return whether
        the session was restored. The trade snapshot is applied when this returns."""
        core = self.core
        self.conn = self.server.connect()
        self.lines += 1
        first = self.lines == 1
        restored = False
        if not first and core.session_token:
            restored = self.ask(core.restore(client_app_id="ec", deadline_ns=self.deadline()))
        if not restored:
            self.ask(
                core.logon(
                    user_name=USER,
                    password=PASSWORD,
                    client_app_id="ec",
                    client_version="test",
                    deadline_ns=self.deadline(),
                )
            )
            for symbol in core.forget_logon():
                self.ask(core.resolve(symbol, deadline_ns=self.deadline()))
        if first:
            (account,) = self.ask(core.accounts(deadline_ns=self.deadline()))
            self.account = account.account_id
            self.instrument = self.ask(core.resolve(SYMBOL, deadline_ns=self.deadline()))
            core.book.hub.subscribe(self.account, self.sink, self.now())
        self.ask(core.subscribe_trades(first=first, deadline_ns=self.deadline()))
        assert core.ready
        return restored

    def drop_line(self) -> None:
        """The line fails: held frames are lost, the server detaches the session."""
        assert self.conn is not None
        self.held.clear()
        self.conn.connection_lost()
        self.conn = None
        self.core.fail_pending("line dropped")
        self.core.line_lost(self.now(), was_logged_on=True)
        self.core.calls_done()

    def send(self, request: OrderRequest, *, lose: bool = False) -> bool:
        """Build ``request``'s frame in the client and put it on the line (or lose it on
        the way). False if the client refused to build it (nothing sent)."""
        core = self.core
        symbol = getattr(request, "symbol", None)
        ref = core.contracts.ref(symbol) if symbol else None
        try:
            target = core.book.order_target(request, ref)
        except Exception:
            return False
        _request_id, frame = core.order(
            request, target, now_ns=self.now(), deadline_ns=self.deadline()
        )
        self.orders_built += 1
        if lose:
            self.sent.append(frame)
        else:
            self._to_server(frame)
        return True

    # -- orders the tests place ------------------------------------------------------

    def new_order(self, cl_order_id: str, side: Side, *, offset_ticks: int | None) -> NewOrder:
        """A market order (``offset_ticks`` None) or a limit ``offset_ticks`` through the
        touch (negative: behind it, resting)."""
        assert self.instrument is not None
        price: Decimal | None = None
        if offset_ticks is not None:
            quote = self.venue.exchange.best_quote(SYMBOL)
            assert quote is not None
            assert quote.bid is not None
            assert quote.ask is not None
            touch = quote.ask if side is Side.BUY else quote.bid
            sign = 1 if side is Side.BUY else -1
            price = self.instrument.to_price(touch + sign * offset_ticks)
        return NewOrder(
            account_id=self.account,
            symbol=SYMBOL,
            side=side,
            qty=1,
            order_type=OrderType.MKT if price is None else OrderType.LMT,
            limit_price=price,
            cl_order_id=cl_order_id,
        )

    def venue_limit(
        self, cl_order_id: str, side: Side, qty: int, ticks: int, *, account: str = HOUSE
    ) -> None:
        """A limit order straight into the venue's engine (another participant, the house
        by default), then the line settles if it is up: the client sees what it changed."""
        assert self.instrument is not None
        self.venue.exchange.submit(
            NewOrder(
                account_id=account,
                symbol=SYMBOL,
                side=side,
                qty=qty,
                order_type=OrderType.LMT,
                limit_price=self.instrument.to_price(ticks),
                cl_order_id=cl_order_id,
            )
        )
        if self.conn is not None:
            self.pump()

    def subscribe_market(self, sink: Any, *, depth: bool) -> None:
        """Subscribe ``sink`` to the symbol's market data (level 4 with ``depth``, else
        3) and apply the status and snapshot."""
        core = self.core
        ref = core.contracts.ref(SYMBOL)
        level = core.market.add(ref, sink, depth=depth, now_ns=self.now())
        assert level is not None, "the first subscriber of the symbol"
        self.ask(core.subscribe_market(ref.contract_id, level, deadline_ns=self.deadline()))

    def cancel(self, cl_order_id: str, orig: str) -> CancelOrder:
        return CancelOrder(
            account_id=self.account, symbol=SYMBOL, cl_order_id=cl_order_id, orig_cl_order_id=orig
        )

    # -- what was sent -----------------------------------------------------------------

    def order_requests_sent(self) -> list[Any]:
        return [r for frame in self.sent for r in decode_client(frame).order_requests]
