"""The Sans-I/O CQG server: frames in, frames out, engine calls in between.

:class:`CqgServerCore` is the server: attached to a :class:`~ec_mock.vendor.MockVenue` as
a link, it turns engine events into ``ServerMsg`` frames for every session that
subscribed, keeps order chains and sessions, and applies a fault plan to what it sends.
:class:`~ec_cqg.server.connection.ConnectionCore` is one client connection. Nothing here
touches a socket or reads a clock of its own (the venue's clock gives every time), so
tests drive it directly; :mod:`.shell` is the thin websockets layer around it, like
websockets' own protocol/IO split.

The server is spread over modules that import one way (each only from those after it):
``core`` (venue link, fan-out, connections) → ``connection`` (one client: handshake and
dispatch) → ``order_flow`` → ``state`` (shared tables and the outbound path) →
``information`` / ``subscriptions`` → ``render`` → ``sessions``, ``orders``, ``market``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, final

from ec_core.model import (
    AccountReport,
    BookDepth,
    ExecutionReport,
    MarketEvent,
    PositionReport,
    Trade,
    TradeEvent,
)

from ec_cqg.protocol.pb import ServerMsg, market_data_2, trade_routing_2
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.connection import ConnectionCore
from ec_cqg.server.daily import settlement_update
from ec_cqg.server.faults import FaultLine
from ec_cqg.server.sessions import Session
from ec_cqg.server.state import Credentials, ServerState

if TYPE_CHECKING:
    from ec_mock.faults import FaultPlan
    from ec_mock.vendor.venue import MockVenue

__all__ = ["ConnectionCore", "CqgServerCore", "Credentials"]

_SCOPE = trade_routing_2.TradeSubscription
_DOM = market_data_2.MarketDataSubscription.LEVEL_TRADES_BBA_DOM


@final
class CqgServerCore(ServerState):
    """The server: shared state plus the venue link (see the module docstring)."""

    def __init__(
        self,
        venue: MockVenue,
        accepts: Credentials,
        *,
        config: ServerConfig | None = None,
        faults: FaultPlan | None = None,
        fault_seed: int | None = None,
    ) -> None:
        line = FaultLine(faults, seed=fault_seed) if faults else None
        super().__init__(venue, accepts, config=config, line=line)
        self._previous_faults: Any = None
        self._closed = False
        if line is not None and line.plan.reject_next:
            self._previous_faults = venue.exchange.faults
            venue.exchange.faults = line.injector
        # settlements published so far: the exchange's count, and per symbol
        self._settled_seen = venue.exchange.settled_count
        self._settlements_sent = {
            i.symbol: len(venue.exchange.settlements(i.symbol))
            for i in venue.exchange.instruments()
        }
        venue.attach(self)

    # -- lifecycle ---------------------------------------------------------------------

    def refusal(self, address: str) -> str | None:
        """Why a new connection from ``address`` is refused now (``None``: it is welcome).

        The shell asks before :meth:`connect` and closes a refused socket with 1013.
        """
        config = self.config
        if len(self.connections) >= config.max_connections:
            reason = f"server full: {config.max_connections} connections"
        elif (
            address
            and sum(1 for c in self.connections if c.address == address)
            >= config.max_connections_per_address
        ):
            reason = f"{config.max_connections_per_address} connections from {address} already"
        else:
            return None
        self.counters["connection_refused"] += 1
        return reason

    def connect(self, *, address: str = "") -> ConnectionCore:
        """A new client connection from ``address`` (the peer's IP; empty if unknown)."""
        connection = ConnectionCore(self, address=address)
        self.connections.append(connection)
        return connection

    def close(self) -> None:
        """Detach from the venue; every connection is told to close."""
        if self._closed:
            return
        self._closed = True
        self.venue.detach(self)
        if self.line is not None and self.venue.exchange.faults is self.line.injector:
            self.venue.exchange.faults = self._previous_faults
        for connection in list(self.connections):
            connection.request_close()

    def release_stalled(self) -> int:
        """Deliver acknowledgements a ``stall_acks`` plan holds "until released"."""
        if self.line is None:
            return 0
        return self.line.release_stalled(self.now())

    # -- venue link --------------------------------------------------------------------

    def on_time(self, now_ns: int) -> None:
        if self.restart_pending is not None:
            keep_state, self.restart_pending = self.restart_pending, None
            self.restarts += 1
            self.venue.restart(keep_state=keep_state)
        if self.line is not None:
            self.line.take_due(now_ns)
        if self.venue.exchange.settled_count != self._settled_seen:
            self._publish_settlements()
        for connection in list(self.connections):
            connection.tick(now_ns)
        if self.history.feeds:
            self._send_bars(self.history.feeds.on_time(now_ns))

    def _publish_settlements(self) -> None:
        """A trading day settled: every subscriber of the contract (levels 1 to 6) gets
        the settlement (see :mod:`.daily`)."""
        exchange = self.venue.exchange
        self._settled_seen = exchange.settled_count
        for instrument in exchange.instruments():
            symbol = instrument.symbol
            settlements = exchange.settlements(symbol)
            sent = min(self._settlements_sent.get(symbol, 0), len(settlements))
            self._settlements_sent[symbol] = len(settlements)
            for settlement in settlements[sent:]:
                for session in self.sessions.live():
                    contract_id = session.contracts.get_id(symbol)
                    connection = session.connection
                    if contract_id is None or connection is None:
                        continue
                    daily = session.daily.get(contract_id)
                    data = None
                    if daily is not None:
                        data = daily.on_settlement(settlement, self.venue.tape, session.base)
                    elif contract_id in session.market:
                        data = settlement_update(
                            contract_id, instrument, settlement, session.base, quote=True
                        )
                    if data is not None:
                        msg = ServerMsg()
                        msg.real_time_market_data.append(data)
                        self.send(connection, msg)

    def on_restart(self, *, kept_state: bool) -> None:
        """The exchange was replaced: every line drops; without state, sessions end too."""
        for connection in list(self.connections):
            connection.drop()
        if not kept_state:
            self.sessions.clear()
            self.chains.forget_all()

    def on_trade_event(self, event: TradeEvent) -> None:
        if isinstance(event, ExecutionReport):
            self._on_report(event)
            self._publish_depth(event.symbol)  # an order rested, left or shrank
        elif isinstance(event, PositionReport):
            self._on_position(event)
        elif isinstance(event, AccountReport):
            self._on_account(event)

    def on_market_event(self, event: MarketEvent) -> None:
        if type(event) is Trade and self.history.feeds:
            self._send_bars(self.history.feeds.on_trade(event))
        for session in self.sessions.live():
            contract_id = session.contracts.get_id(event.symbol)
            sub = session.market.get(contract_id) if contract_id is not None else None
            connection = session.connection
            if sub is None or connection is None:
                continue
            data: market_data_2.RealTimeMarketData | None
            if isinstance(event, Trade):
                data = sub.on_trade(event, session.base)
            else:
                data = sub.on_quote(event, session.base)
            if data is not None:
                msg = ServerMsg()
                msg.real_time_market_data.append(data)
                self.send(connection, msg, event)
        self._publish_depth(event.symbol)

    def _publish_depth(self, symbol: str) -> None:
        """DOM updates to every level-4 subscriber of ``symbol`` whose book view differs
        from the engine's depth. Called on every event that may move the book; the engine
        builds the depth once per request, so the other calls of a request find the same
        object and send nothing."""
        if symbol not in self.subscriptions.depth_symbols:
            return
        depth: BookDepth | None = None
        for session in self.sessions.live():
            contract_id = session.contracts.get_id(symbol)
            sub = session.market.get(contract_id) if contract_id is not None else None
            connection = session.connection
            if sub is None or connection is None or sub.level < _DOM:
                continue
            if depth is None:
                depth = self.render.depth(symbol)
                if depth is None:
                    return
            data = sub.on_depth(depth, session.base)
            if data is not None:
                msg = ServerMsg()
                msg.real_time_market_data.append(data)
                self.send(connection, msg, depth)

    def _send_bars(self, updates: Iterable[tuple[Session, ServerMsg]]) -> None:
        for session, msg in list(updates):
            if session.connection is not None:
                self.send(session.connection, msg)

    def _on_report(self, report: ExecutionReport) -> None:
        key = (report.account_id, report.cl_order_id)
        waiting = self.awaiting.pop(key, None)
        plan = self.chains.plan_report(report)
        if plan is None:
            if waiting is not None:
                connection, request_id = waiting
                connection.reject_request(
                    request_id, f"{report.reject_code}: {report.reject_text}", event=report
                )
            return
        self.publish(plan, event=report)

    def _on_position(self, event: PositionReport) -> None:
        account = event.position.account_id
        now = self.now()
        for session in self.sessions.live():
            ids = session.order_subs(account, _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS)
            connection = session.connection
            if ids and connection is not None:
                msg = ServerMsg()
                msg.position_statuses.append(
                    self.render.position_status(session, event.position, ids, now_ns=now)
                )
                self.send(connection, msg, event)

    def _on_account(self, event: AccountReport) -> None:
        account = event.account.account_id
        now = self.now()
        for session in self.sessions.live():
            connection = session.connection
            if connection is None:
                continue
            msg = self.render.account_statuses(
                session, account, None, now_ns=now, is_snapshot=False
            )
            if msg is not None:
                self.send(connection, msg, event)
