"""Logged-on sessions: what survives a dropped connection and can be restored by token.

A session is attached to at most one connection, seen here only as a :class:`Line` (what
the server calls on it); :class:`~ec_cqg.server.connection.ConnectionCore` is the one
implementation. Typing it as a protocol keeps this module free of the connection and
server modules that import it.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.codes import REQUEST_REJECT
from ec_cqg.server.contracts import SessionContracts
from ec_cqg.server.daily import DailySubscription
from ec_cqg.server.market import MarketSubscription

__all__ = ["Line", "Session", "SessionTable", "TradeSub", "base_time_at"]

_NS_PER_S = 1_000_000_000


def base_time_at(now_ns: int) -> BaseTime:
    """A session's base time: ``now`` floored to the second, CQG's text format."""
    moment = datetime.fromtimestamp(now_ns // _NS_PER_S, UTC)
    return BaseTime(moment.strftime("%Y-%m-%dT%H:%M:%S"))


class Line(Protocol):
    """One client connection as the server drives it."""

    @property
    def address(self) -> str:
        """The peer's IP address (empty when unknown)."""

    def deliver(self, frame: bytes) -> None:
        """Queue an encoded ``ServerMsg`` for the client."""

    def drop(self) -> None:
        """The line breaks now (no close frame)."""

    def request_close(self) -> None:
        """Send what is queued, then close."""

    def tick(self, now_ns: int) -> None:
        """Venue time passed."""

    def logged_off(self, reason: int, text: str) -> None:
        """Tell the client its session ended, then close."""

    def reject_request(
        self, request_id: int, text: str, *, code: int = REQUEST_REJECT, event: object = None
    ) -> None:
        """Answer an order request with ``OrderRequestReject``."""


@dataclass(slots=True)
class TradeSub:
    """One trade subscription: its id, scopes, accounts and account-summary fields."""

    id: int
    scopes: frozenset[int]
    accounts: frozenset[str]
    summary_fields: frozenset[int] = frozenset()


@dataclass(eq=False, slots=True)
class Session:
    """A logon: user, accounts, contract ids and subscriptions; maybe attached to a connection."""

    token: str
    user: str
    accounts: tuple[str, ...]
    base: BaseTime
    allow_restore: bool
    contracts: SessionContracts = field(default_factory=SessionContracts)
    market: dict[int, MarketSubscription] = field(default_factory=dict)
    daily: dict[int, DailySubscription] = field(default_factory=dict)  # levels 5 and 6
    trade_subs: dict[int, TradeSub] = field(default_factory=dict)
    connection: Line | None = None

    def order_subs(self, account: str, scope: int) -> list[int]:
        """Ids of the trade subscriptions of ``scope`` that cover ``account``."""
        return sorted(
            sub.id
            for sub in self.trade_subs.values()
            if scope in sub.scopes and account in sub.accounts
        )


class SessionTable:
    """Sessions by token; detached ones are kept up to ``keep`` (oldest dropped first)."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._by_token: OrderedDict[str, Session] = OrderedDict()

    def open(
        self, *, user: str, accounts: tuple[str, ...], base: BaseTime, allow_restore: bool
    ) -> Session:
        session = Session(
            token=secrets.token_urlsafe(24),
            user=user,
            accounts=accounts,
            base=base,
            allow_restore=allow_restore,
        )
        self._by_token[session.token] = session
        self._trim()
        return session

    def get(self, token: str) -> Session | None:
        return self._by_token.get(token)

    def close(self, session: Session) -> None:
        self._by_token.pop(session.token, None)

    def clear(self) -> None:
        self._by_token.clear()

    def live(self) -> list[Session]:
        return [s for s in self._by_token.values() if s.connection is not None]

    def of_user(self, user: str) -> list[Session]:
        return [s for s in self._by_token.values() if s.user == user]

    def _trim(self) -> None:
        detached = [t for t, s in self._by_token.items() if s.connection is None]
        for token in detached[: max(0, len(detached) - self._keep)]:
            del self._by_token[token]

    def __len__(self) -> int:
        return len(self._by_token)
