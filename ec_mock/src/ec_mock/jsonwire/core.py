"""The Sans-I/O core of the ``json`` dialect: text frames in, text frames out, no sockets.

:class:`JsonServerCore` is attached to a :class:`~ec_mock.vendor.venue.MockVenue` as one
of its links (the same seam the in-process ``mock`` sessions and the CQG dialect use):
order requests go to ``venue.exchange.submit`` as ec's own requests, and every event
the engine reports comes back through :meth:`JsonServerCore.on_trade_event` /
:meth:`~JsonServerCore.on_market_event`, to be written, once encoded, to each
connection that subscribed to its account or symbol.

:meth:`JsonConnection.receive` never raises for anything a client sends: a frame that
is not JSON, an unknown ``op``, a missing, unknown or out-of-range field is answered
with ``error`` naming the field, and the connection stays open. Only a refused logon
closes it (after the answer). A client that stops reading is dropped when
``max_outbound`` frames wait for it; :attr:`JsonConnection.backed_up` tells the shell to
read nothing more from it meanwhile.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, final

import msgspec
from ec_core.model import (
    AccountReport,
    ExecutionReport,
    MarketEvent,
    PositionReport,
    Quote,
    ReportKind,
    TradeEvent,
)
from ec_core.streams import account_of

from ec_mock.jsonwire.convert import (
    account_view,
    core_request,
    order_view,
    position_view,
    quote_view,
    trade_view,
)
from ec_mock.jsonwire.schema import (
    AccountSub,
    ErrorMsg,
    LogonOk,
    LogonReq,
    OkMsg,
    OrdersMsg,
    OrdersReq,
    QuoteSub,
    QuoteUnsub,
    Request,
    SnapshotEnd,
    SymbolMsg,
    SymbolReq,
)

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["DEFAULT_MAX_OUTBOUND", "Credentials", "JsonConnection", "JsonServerCore"]

log = logging.getLogger(__name__)

Credentials = Callable[[str, str], bool]
"""``accepts(user, password)``: e.g. :meth:`ec_mock.dialects.ServeOptions.accepts`."""

DEFAULT_MAX_OUTBOUND = 10_000  # frames waiting for one client before its line is dropped
_HOUSE = "HOUSE"  # the market simulator's own account: nobody logs on to trade it
_decode_request = msgspec.json.Decoder(Request).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_FIELD = re.compile(r"at `\$\.(\w+)|field `(\w+)`")


def _text(message: msgspec.Struct) -> str:
    return _encode(message).decode()


def _field_of(error: msgspec.ValidationError) -> str | None:
    found = _FIELD.search(str(error))
    return None if found is None else found.group(1) or found.group(2)


@final
class JsonServerCore:
    """Every connection of one ``json`` server, and its link to the venue."""

    def __init__(
        self, venue: MockVenue, accepts: Credentials, *, max_outbound: int = DEFAULT_MAX_OUTBOUND
    ) -> None:
        if max_outbound < 1:
            raise ValueError(f"max_outbound must be >= 1, got {max_outbound}")
        self.venue = venue
        self.accepts = accepts
        self.max_outbound = max_outbound
        self.connections: list[JsonConnection] = []
        # what clients caused: bad_frame, logon_refused, outbound_overflow, venue_error
        self.counters: Counter[str] = Counter()
        venue.attach(self)

    def connect(self) -> JsonConnection:
        connection = JsonConnection(self)
        self.connections.append(connection)
        return connection

    def close(self) -> None:
        """Stop serving: detach from the venue and close every connection."""
        self.venue.detach(self)
        for connection in list(self.connections):
            connection.request_close()

    def accounts(self) -> list[str]:
        """The venue's accounts a logon may trade (not the simulator's house account)."""
        return [a for a in self.venue.exchange.account_ids() if a != _HOUSE]

    # -- the venue's link ------------------------------------------------------------

    def on_trade_event(self, event: TradeEvent) -> None:
        account = account_of(event)
        listeners = [c for c in self.connections if account in c.accounts]
        if not listeners:
            return
        now = self.venue.clock.now_ns()
        if isinstance(event, ExecutionReport):
            frame = _text(order_view(event))
        elif isinstance(event, PositionReport):
            frame = _text(position_view(event.position, event.ts_ns or now))
        elif isinstance(event, AccountReport):
            frame = _text(account_view(event.account, event.ts_ns or now))
        else:  # margin calls and session events have no word in this dialect
            return
        for connection in listeners:
            connection.send(frame)

    def on_market_event(self, event: MarketEvent) -> None:
        listeners = [c for c in self.connections if event.symbol in c.quotes]
        instrument = self.venue.exchange.instrument(event.symbol) if listeners else None
        if instrument is None:
            return
        if isinstance(event, Quote):
            frame = _text(quote_view(event, instrument))
        else:
            frame = _text(trade_view(event, instrument))
        for connection in listeners:
            connection.send(frame)

    def on_time(self, now_ns: int) -> None:
        pass

    def on_restart(self, *, kept_state: bool) -> None:
        """The exchange was replaced: every line drops, as it would at a real venue."""
        for connection in list(self.connections):
            connection.drop()


@final
class JsonConnection:
    """One client: its logon, its subscriptions and the frames waiting for it."""

    def __init__(self, server: JsonServerCore) -> None:
        self.server = server
        self.user: str | None = None
        self.accounts: set[str] = set()  # subscribed accounts
        self.quotes: set[str] = set()  # subscribed symbols
        self.close_requested = False  # send what is queued, then close
        self.drop_requested = False  # drop the line now
        self.closed = False
        self.on_output: Callable[[], None] | None = None
        self._out: list[str] = []

    # -- I/O side ------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Frames ready to go, oldest first (the list is handed over)."""
        out, self._out = self._out, []
        return out

    @property
    def backed_up(self) -> bool:
        """Half the outbound bound is waiting: read nothing more until it drains."""
        return len(self._out) * 2 >= self.server.max_outbound

    def send(self, frame: str) -> None:
        if self.closed:
            return
        if len(self._out) >= self.server.max_outbound:
            self.server.counters["outbound_overflow"] += 1
            self.drop()
            return
        self._out.append(frame)
        self._wake()

    def request_close(self) -> None:
        self.close_requested = True
        self._wake()

    def drop(self) -> None:
        self.drop_requested = True
        self.connection_lost()
        self._wake()

    def connection_lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._out.clear()
        if self in self.server.connections:
            self.server.connections.remove(self)

    def _wake(self) -> None:
        if self.on_output is not None:
            self.on_output()

    # -- protocol side -------------------------------------------------------------

    def receive(self, frame: str | bytes) -> None:
        """One frame from the client; always answered (see the module docstring)."""
        if self.closed or self.close_requested:
            return
        try:
            request = _decode_request(frame)
        except msgspec.ValidationError as exc:
            field = _field_of(exc)
            code = "UNKNOWN_OP" if field == "op" and "Invalid value" in str(exc) else "BAD_FIELD"
            self._refuse(_req_of(frame), code, field, str(exc))
            return
        except msgspec.DecodeError as exc:
            self._refuse(None, "BAD_JSON", None, f"not a JSON object: {exc}")
            return
        if isinstance(request, LogonReq):
            self._logon(request)
        elif self.user is None:
            self._error(request.req, "NOT_LOGGED_ON", "op", "log on first (op logon)")
        elif isinstance(request, SymbolReq):
            self._symbol(request)
        elif isinstance(request, QuoteSub | QuoteUnsub):
            self._quotes(request)
        elif request.acct not in self.server.accounts():
            text = f"{request.acct!r} is not an account of this logon"
            self._error(request.req, "UNKNOWN_ACCOUNT", "acct", text)
        elif isinstance(request, AccountSub):
            self._subscribe(request)
        elif isinstance(request, OrdersReq):
            self._orders(request)
        else:
            self._reply(OkMsg(req=request.req))  # outcomes follow as order events
            try:
                self.server.venue.exchange.submit(core_request(request))
            except Exception:  # an engine bug must not take the connection down
                log.exception("json dialect: the engine raised on request %s", request.req)
                self.server.counters["venue_error"] += 1
                self._error(None, "VENUE_ERROR", None, f"request {request.req} failed at the venue")

    def _logon(self, request: LogonReq) -> None:
        if self.user is not None:
            self._error(request.req, "ALREADY_LOGGED_ON", "op", f"logged on as {self.user!r}")
        elif self.server.accepts(request.user, request.password):
            self.user = request.user
            self._reply(
                LogonOk(req=request.req, user=request.user, accounts=self.server.accounts())
            )
        else:
            self.server.counters["logon_refused"] += 1
            self._error(request.req, "LOGON_REFUSED", "password", "user or password refused")
            self.request_close()

    def _symbol(self, request: SymbolReq) -> None:
        instrument = self.server.venue.exchange.instrument(request.sym)
        if instrument is None:
            self._error(request.req, "UNKNOWN_SYMBOL", "sym", f"{request.sym!r} is not listed")
            return
        self._reply(
            SymbolMsg(
                req=request.req,
                sym=instrument.symbol,
                tick=str(instrument.tick_size),
                mult=str(instrument.multiplier),
                ccy=instrument.currency,
                max_qty=instrument.max_order_qty,
                desc=instrument.description,
            )
        )

    def _quotes(self, request: QuoteSub | QuoteUnsub) -> None:
        exchange = self.server.venue.exchange
        instrument = exchange.instrument(request.sym)
        if instrument is None:
            self._error(request.req, "UNKNOWN_SYMBOL", "sym", f"{request.sym!r} is not listed")
            return
        self._reply(OkMsg(req=request.req))
        if isinstance(request, QuoteUnsub):
            self.quotes.discard(request.sym)
            return
        self.quotes.add(request.sym)
        quote = exchange.best_quote(request.sym)
        if quote is not None:
            self._reply(quote_view(quote, instrument))
        trade = exchange.last_trade(request.sym)
        if trade is not None:
            self._reply(trade_view(trade, instrument))

    def _subscribe(self, request: AccountSub) -> None:
        """The account, its working orders and positions, ``snapshot_end``, then live."""
        exchange = self.server.venue.exchange
        now = self.server.venue.clock.now_ns()
        self.accounts.add(request.acct)
        self._reply(account_view(exchange.account(request.acct), now))
        for report in exchange.open_orders(request.acct):
            self._reply(order_view(msgspec.structs.replace(report, kind=ReportKind.STATUS)))
        for position in exchange.positions(request.acct):
            self._reply(position_view(position, now))
        self._reply(SnapshotEnd(req=request.req, acct=request.acct, ts=now))

    def _orders(self, request: OrdersReq) -> None:
        exchange = self.server.venue.exchange
        if request.id is not None:
            found = exchange.order_status(request.acct, request.id)
            reports = [] if found is None else [found]
        elif request.since > request.until:
            self._error(request.req, "BAD_FIELD", "until", "until is before since")
            return
        else:
            reports = exchange.historical_orders(request.acct, request.since, request.until)
        self._reply(OrdersMsg(req=request.req, orders=[order_view(r) for r in reports]))

    def _reply(self, message: msgspec.Struct) -> None:
        self.send(_text(message))

    def _error(self, req: int | None, code: str, field: str | None, text: str) -> None:
        self._reply(ErrorMsg(req=req, code=code, field=field, text=text))

    def _refuse(self, req: int | None, code: str, field: str | None, text: str) -> None:
        self.server.counters["bad_frame"] += 1
        self._error(req, code, field, text)


def _req_of(frame: str | bytes) -> int | None:
    """The ``req`` of a frame that failed to decode as a request, if it can be found."""
    try:
        loose = _decode_any(frame)
    except msgspec.DecodeError:
        return None
    req = loose.get("req") if isinstance(loose, dict) else None
    return req if isinstance(req, int) and not isinstance(req, bool) and req >= 0 else None
