"""How the kit makes a backend's market trade, when the backend allows it.

Fills, positions and liquidation can only be tested if something trades with the
kit's orders. A simulator, a test venue with a second account, or an exchange
test environment can do that; a live production feed cannot. A plugin author who
can provides an object satisfying :class:`MarketControl` from the ``market_control``
fixture; one who cannot returns ``None`` and the tests that need it are skipped,
naming ``market_control`` as the missing capability.
"""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal
from typing import Protocol, final, runtime_checkable

import anyio

from ec_core.model import (
    CancelOrder,
    Duration,
    ExecutionReport,
    Instrument,
    NewOrder,
    OrderType,
    ReportKind,
    SessionState,
    Side,
    SnapshotComplete,
)
from ec_core.vendor import Session

__all__ = ["ConnectionControl", "MarketControl", "SessionMarketControl"]


@runtime_checkable
class MarketControl(Protocol):
    """A counterparty the kit directs: it trades at the prices the kit names.

    The kit uses it two ways. To make the market *trade through* a price, it rests its
    own order at ``price`` and asks for the opposite ``side`` at the same price: the
    counterparty's order must trade with the kit's. To provide liquidity (before a
    liquidation sends a market order), it asks for an order that rests at ``price``.
    Nothing else should trade with the counterparty at a better price than the kit's
    order; a quiet test venue (no other participants) guarantees that.
    """

    async def place(self, instrument: Instrument, side: Side, price: Decimal, qty: int) -> None:
        """A good-till-cancelled limit order of another account: ``qty`` at ``price``.

        It trades with resting orders of the other side that it crosses; what is left
        rests as liquidity. Return once the venue has taken it (its effects on the
        kit's account may still be in flight on the trade stream).
        """
        ...


@runtime_checkable
class ConnectionControl(Protocol):
    """Drops the line between the kit's session and the backend, as a network fault would.

    Needed by the ``reconnect`` test (``Capability.RECONNECT``): the vendor must notice the
    drop and come back by itself. A simulator restarts its venue or closes the socket from
    the server's side; a test venue may offer an administrative disconnect.
    """

    async def interrupt(self) -> None:
        """Break the line once. Return when it is broken (or, for a simulated line that
        cannot heal by itself, broken and restored); the kit then waits on the trade
        stream for the vendor's GAP, snapshot and RECONNECTED."""
        ...


@final
class SessionMarketControl:
    """A :class:`MarketControl` that trades through a second session of the same backend.

    Any backend with a test venue and two accounts can use it: log the counterparty
    on with its own account and pass the open session. :meth:`place` returns once the
    venue has answered the counterparty's order (accepted or filled), so the book the
    kit looks at next already holds it. :meth:`clear` cancels what it left resting: the kit
    calls it after each test, so a shared test venue (a broker's UAT) starts the next test
    without the last one's liquidity.
    """

    def __init__(self, session: Session, account_id: str, *, timeout: float = 10.0) -> None:
        self.session = session
        self.account_id = account_id
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._prefix = f"ctl{uuid.uuid4().hex[:8]}-"
        self.placed: list[str] = []

    async def clear(self) -> None:
        """Cancel every order this control placed that the venue still lists as open, and
        wait until each is final."""
        if not self.placed or self.session.state is not SessionState.LOGGED_ON:
            return
        with anyio.fail_after(self.timeout):
            async with self.session.trades.stream(self.account_id) as events:
                async for event in events:
                    if isinstance(event, SnapshotComplete):
                        break
                mine = set(self.placed)
                resting = {
                    r.chain_id or r.cl_order_id: r
                    for r in await self.session.orders.open_orders(self.account_id)
                    if r.cl_order_id in mine or r.chain_id in mine
                }
                for report in resting.values():
                    await self.session.orders.send(
                        CancelOrder(
                            account_id=self.account_id,
                            symbol=report.symbol,
                            orig_cl_order_id=report.cl_order_id,
                            cl_order_id=f"{self._prefix}{next(self._ids)}x",
                        )
                    )
                open_chains = set(resting)
                if not open_chains:
                    self.placed.clear()
                    return
                async for event in events:
                    if isinstance(event, ExecutionReport) and event.state.is_final:
                        open_chains.difference_update((event.chain_id, event.orig_cl_order_id))
                        if not open_chains:
                            break
        self.placed.clear()

    async def place(self, instrument: Instrument, side: Side, price: Decimal, qty: int) -> None:
        cl = f"{self._prefix}{next(self._ids)}"
        self.placed.append(cl)
        order = NewOrder(
            account_id=self.account_id,
            symbol=instrument.symbol,
            side=side,
            qty=qty,
            order_type=OrderType.LMT,
            limit_price=price,
            duration=Duration.GTC,
            cl_order_id=cl,
        )
        answers = (ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.REJECTED)
        with anyio.fail_after(self.timeout):
            async with self.session.trades.stream(self.account_id) as events:
                async for event in events:
                    if isinstance(event, SnapshotComplete):
                        break
                await self.session.orders.send(order)
                async for event in events:
                    if (
                        isinstance(event, ExecutionReport)
                        and event.cl_order_id == cl
                        and event.kind in answers
                    ):
                        if event.kind is ReportKind.REJECTED:
                            raise AssertionError(
                                f"market control order {cl} ({side} {qty} @ {price}) rejected:"
                                f" {event.reject_code} {event.reject_text}"
                            )
                        return
        raise AssertionError(
            f"the trade stream of {self.account_id} ended before {cl} was answered"
        )
