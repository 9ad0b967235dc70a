"""Tunables of the CQG-dialect server: one frozen struct; the defaults fit tests and serving."""

from __future__ import annotations

from typing import Annotated, final

import msgspec

__all__ = ["ServerConfig"]

_Positive = Annotated[int, msgspec.Meta(gt=0)]


@final
class ServerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the server behaves; every time is on the *venue* clock (simulated or wall).

    ``ping_interval_ns`` paces the protocol pings the server sends (``0``: never).
    ``dom_depth`` is how many price levels a level-4 market-data subscription shows.
    ``kept_sessions`` bounds how many detached sessions stay restorable by token.
    ``history_days`` is how far back ``historical_orders_request.from_date``, time bars and
    time and sales may go. ``history_chunk`` is how many bars or quotes one report carries;
    ``history_max_items`` how many one request gets before the report says ``truncated``.
    ``max_bar_subscriptions`` bounds the time bar subscriptions of one session.
    ``max_costly_requests_per_message``: session information, time bar and time and sales
    requests one message gets answered in full (each costs up to ~50 ms of the server's one
    thread, more with a long tape); the rest of them are answered
    ``REQUEST_RATE_LIMIT_VIOLATION``, to be asked again (a drop of a subscription is free).

    Limits that keep one client from starving the others (see docs/cqg/server.md):
    ``max_outbound_bytes`` is how many encoded bytes may wait for one connection before
    the server closes it; ``max_ping_token_bytes`` bounds a ping token echoed back;
    ``logon_timeout_ns`` is how long a connection may stay without a session;
    ``max_connections`` and ``max_connections_per_address`` cap open connections;
    after ``logon_free_failures`` failed logons of one user or from one address, each
    further attempt waits ``logon_backoff_ns`` doubled per failure, up to
    ``logon_backoff_max_ns``.
    """

    ping_interval_ns: Annotated[int, msgspec.Meta(ge=0)] = 10_000_000_000
    max_frame_bytes: _Positive = 1 << 20
    dom_depth: _Positive = 10
    kept_sessions: _Positive = 64
    history_days: _Positive = 30
    history_chunk: _Positive = 1_000
    history_max_items: _Positive = 100_000
    max_bar_subscriptions: _Positive = 100
    max_costly_requests_per_message: _Positive = 16
    inactivity_timeout_min: _Positive = 5
    brokerage_id: _Positive = 1
    brokerage_name: str = "ec-mock"
    sales_series: str = "MOCK"
    first_account_id: _Positive = 1001
    max_outbound_bytes: _Positive = 16 << 20
    max_ping_token_bytes: _Positive = 64
    logon_timeout_ns: _Positive = 30_000_000_000
    max_connections: _Positive = 256
    max_connections_per_address: _Positive = 32
    logon_free_failures: _Positive = 3
    logon_backoff_ns: _Positive = 1_000_000_000
    logon_backoff_max_ns: _Positive = 60_000_000_000
