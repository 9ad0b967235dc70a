"""A session of the echo venue: ec's ``Session`` over the venue's WebSocket.

Core's :class:`~ec_core.venue_session.VenueSession` is the plumbing (lifecycle, reader
task, requests with deadlines, trade and market streams, the lost line); this class is
the mapping: which message each call sends, which ec event each message is. The words
themselves are in :mod:`ec_echo.wire`.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec
from ec_core.link import Frame, Transport
from ec_core.reports import refused, rejected, unknown_order
from ec_core.session import StateListener
from ec_core.venue_session import VenueSession

from ec_core import errors
from ec_core import model as ec
from ec_echo import wire

if TYPE_CHECKING:
    from ec_echo.factory import EchoSettings


class EchoSession(VenueSession[int, wire.Message]):
    """One logon to the venue, for one account; valid inside its ``async with`` block."""

    vendor = "echo"

    def __init__(self, settings: EchoSettings, *, on_state: StateListener | None) -> None:
        super().__init__(
            accounts=[settings.account_id], timeout=settings.timeout, on_state=on_state
        )
        self.settings = settings
        self._reqs = itertools.count(1)  # the venue echoes a request's number in its answer
        self._instruments: dict[str, ec.Instrument] = {}

    async def connect(self) -> Transport:
        from websockets.asyncio.client import connect  # heavy imports wait until needed

        return await connect(self.settings.url)

    async def logon(self) -> None:
        user, password = self.settings.user, self.settings.password.reveal()
        await self.ask({"op": "logon", "user": user, "password": password}, errors.AuthError)
        await self.ask({"op": "account", "acct": self.settings.account_id})  # snapshot, then live

    async def ask(
        self, message: wire.Message, refusal: type[Exception] | None = errors.SessionError
    ) -> wire.Message:
        """Send ``message`` under a new ``req`` and return the venue's answer to it; an
        ``error`` answer raises ``refusal`` (unless ``None``), with the venue's code."""
        req = next(self._reqs)
        answer = await self.link.request(req, wire.encode(message, req))
        if answer["ev"] == "error" and refusal is not None:
            raise wire.refusal(refusal, message, answer)
        return answer

    def on_frame(self, frame: Frame) -> None:
        m: wire.Message = msgspec.json.decode(frame)
        if (event := wire.trade_event(m)) is not None:
            self.publish(event)
        elif m["ev"] in ("quote", "trade") and (contract := self.market_data.instrument(m["sym"])):
            self.market_data.publish(wire.market(m, contract))
        if "req" in m:  # an answer (ok, error, snapshot_end...): to the request waiting for it
            self.link.answer(m["req"], m)

    async def subscribe(self, instrument: ec.Instrument) -> None:
        await self.ask({"op": "quotes", "sym": instrument.symbol}, errors.SymbolNotFoundError)

    async def unsubscribe(self, instrument: ec.Instrument) -> None:
        await self.ask({"op": "unquotes", "sym": instrument.symbol})

    async def resolve(self, symbol: str) -> ec.Instrument:
        if symbol not in self._instruments:
            answer = await self.ask({"op": "symbol", "sym": symbol}, errors.SymbolNotFoundError)
            self._instruments[symbol] = wire.instrument(answer)
        return self._instruments[symbol]

    async def send(self, request: ec.OrderRequest) -> None:
        """Send and await the venue's ``ok``: outcomes arrive on the trade stream, and so
        does a refusal of the request itself, as a report built by ``ec_core.reports``."""
        await self.require(request.account_id)
        answer = await self.ask(wire.request(request), refusal=None)
        if answer["ev"] == "error":
            self.publish(self._refused(request, answer))

    def _refused(self, request: ec.OrderRequest, answer: wire.Message) -> ec.ExecutionReport:
        code, text, now = f"{answer['code']}:{answer['field']}", answer["text"], self.hub.now_ns
        if isinstance(request, ec.NewOrder):
            return rejected(request, code, text, ts_ns=now)
        if not isinstance(request, ec.ModifyOrder | ec.CancelOrder):
            raise errors.OrderRejectedError(text, code=code, cl_order_id=request.cl_order_id)
        if (live := self.book.working(request.account_id, request.orig_cl_order_id)) is None:
            return unknown_order(request, code, text, ts_ns=now)  # the venue has no such order
        return refused(live, request, code, text, ts_ns=now)  # the live order keeps its state

    async def order_status(self, account_id: str, cl_order_id: str) -> ec.ExecutionReport | None:
        found = await self._orders({"acct": account_id, "id": cl_order_id})
        return found[-1] if found else None

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> list[ec.ExecutionReport]:
        return await self._orders(
            {"acct": account_id, "since": wire.ns(start), "until": wire.ns(end)}
        )

    async def _orders(self, query: wire.Message) -> list[ec.ExecutionReport]:
        await self.require(query["acct"])
        answer = await self.ask({"op": "orders", **query})
        return [wire.report(m) for m in answer["orders"]]
