"""What every connection of one server shares: tables, desks and the outbound path.

:class:`ServerState` is the part of the server a connection uses: the account directory,
order chains and sessions, the renderer and the information, subscription and history
desks, and
:meth:`ServerState.send`/:meth:`ServerState.publish`, the one way a frame goes out
(through the fault plan when there is one). :class:`~ec_cqg.server.core.CqgServerCore`
extends it with the venue link and makes connections; keeping the shared part here lets
:mod:`.connection` depend on it without importing :mod:`.core` (which imports
:mod:`.connection`), so the modules import one way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from ec_cqg.protocol.codec import encode_server
from ec_cqg.protocol.pb import ServerMsg, trade_routing_2
from ec_cqg.server.accounts import AccountDirectory
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.faults import FaultLine
from ec_cqg.server.history import HistoryDesk
from ec_cqg.server.information import InformationDesk
from ec_cqg.server.orders import OrderChains, StatusPlan
from ec_cqg.server.render import Renderer
from ec_cqg.server.sessions import Line, Session, SessionTable
from ec_cqg.server.subscriptions import SubscriptionDesk
from ec_cqg.server.throttle import LogonThrottle

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["Credentials", "ServerState"]

Credentials = Callable[[str, str], bool]
"""``accepts(user, password)``: e.g. :meth:`ec_mock.dialects.ServeOptions.accepts`."""

_SCOPE = trade_routing_2.TradeSubscription
_HOUSE = "HOUSE"


class ServerState:
    """The server's shared state and outbound path (see the module docstring)."""

    def __init__(
        self,
        venue: MockVenue,
        accepts: Credentials,
        *,
        config: ServerConfig | None,
        line: FaultLine | None,
    ) -> None:
        self.venue = venue
        self.config = config or ServerConfig()
        self._accepts = accepts
        self.accounts = AccountDirectory(self.config)
        self.chains = OrderChains(self.accounts.id_of)
        self.sessions = SessionTable(self.config.kept_sessions)
        self.connections: list[Line] = []
        self.line = line
        self.restarts = 0
        self.disconnects = 0
        # refusals and closes a client can cause, by kind: logon_refused, logon_throttled,
        # logon_timeout, outbound_overflow, connection_refused
        self.counters: Counter[str] = Counter()
        self.throttle = LogonThrottle(
            free_failures=self.config.logon_free_failures,
            backoff_ns=self.config.logon_backoff_ns,
            max_ns=self.config.logon_backoff_max_ns,
        )
        self.restart_pending: bool | None = None
        # (venue account, cl_order_id) of a modify or cancel → who asked, to reject it
        self.awaiting: dict[tuple[str, str], tuple[Line, int]] = {}
        self.render = Renderer(venue, self.accounts, self.config)
        self.information = InformationDesk(
            venue, self.accounts, self.chains, self.render, self.config
        )
        self.subscriptions = SubscriptionDesk(venue, self.accounts, self.chains, self.render)
        self.history = HistoryDesk(venue, self.config)

    def now(self) -> int:
        return self.venue.clock.now_ns()

    def visible_accounts(self) -> tuple[str, ...]:
        """Venue accounts a logon may trade: all but the market simulator's house account."""
        names = [a for a in self.venue.exchange.account_ids() if a != _HOUSE]
        self.accounts.sync(names)
        return tuple(names)

    def accepts(self, user: str, password: str) -> bool:
        return self._accepts(user, password)

    def send(self, connection: Line, msg: ServerMsg, event: object = None) -> None:
        """Encode and send ``msg`` to ``connection``, through the fault plan if any."""
        self.send_frame(connection, encode_server(msg), event)

    def send_frame(self, connection: Line, frame: bytes, event: object = None) -> None:
        """Send an encoded ``ServerMsg`` to ``connection``, through the fault plan if any."""
        line = self.line
        if line is None:
            connection.deliver(frame)
            return
        now = self.now()
        line.put(event if event is not None else line.own_event(), connection.deliver, frame, now)
        line.take_due(now)
        injector = line.injector
        if injector.should_disconnect(now):
            self.disconnects += 1
            connection.drop()
        directive = injector.restart_due(now)
        if directive is not None:
            self.restart_pending = directive.keep_state

    def publish(self, plan: StatusPlan, *, event: object = None) -> None:
        """Send an order status to every session subscribed to the order's account.

        Sessions that see the status alike (same contract id, base time and subscription
        ids, the contract already announced) share one rendered, encoded frame: with many
        sessions on one account the fan-out costs a lookup per session, not a render.
        """
        account = plan.report.account_id
        symbol = plan.report.symbol
        frames: dict[tuple[int, str, tuple[int, ...]], bytes] = {}
        for session in self.sessions.live():
            ids = session.order_subs(account, _SCOPE.SUBSCRIPTION_SCOPE_ORDERS)
            connection = session.connection
            if not ids or connection is None:
                continue
            contract_id = session.contracts.get_id(symbol)
            if contract_id is None or not session.contracts.announced(contract_id):
                frame = self._status_frame(session, plan, ids)  # carries the metadata
            else:
                key = (contract_id, session.base.text, tuple(ids))
                frame = frames.get(key) or frames.setdefault(
                    key, self._status_frame(session, plan, ids)
                )
            self.send_frame(connection, frame, event)

    def _status_frame(self, session: Session, plan: StatusPlan, ids: list[int]) -> bytes:
        msg = ServerMsg()
        msg.order_statuses.append(self.render.order_status(session, plan, ids))
        return encode_server(msg)
