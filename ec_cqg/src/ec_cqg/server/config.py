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
    """

    ping_interval_ns: Annotated[int, msgspec.Meta(ge=0)] = 10_000_000_000
    max_frame_bytes: _Positive = 1 << 20
    dom_depth: _Positive = 10
    kept_sessions: _Positive = 64
    history_days: _Positive = 30
    history_chunk: _Positive = 1_000
    history_max_items: _Positive = 100_000
    inactivity_timeout_min: _Positive = 5
    brokerage_id: _Positive = 1
    brokerage_name: str = "ec-mock"
    sales_series: str = "MOCK"
    first_account_id: _Positive = 1001
