"""Deterministic replay of recorded ticks on the mock venue, with the real order path.

::

    tick file --> session.replay (ReplayFeed) --> venue (simulated clock, fill model)
        |                                           |  trade events
        +--> StrategyEngine --> Executor -----------+--> OrderTracker --> report

The venue is opened through the plugin host (vendor ``mock``, no simulated market,
simulated clock) and reached through the core's optional
:class:`~ec_core.vendor.SupportsReplay` capability, so ec-core never imports
ec-mock. Each tick is shown to the venue first, then to the strategies, and every
order action settles before the next tick. Same file, same seed, same strategy:
same report (except the wall time).

A replay never waits on itself: a payload's activation window is judged on the
replayed time (the engine holds it until the first tick at or past its
``start_time``), and a window the data never reaches ends EXPIRED, listed in the
report's ``held``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any, final

import anyio

from ec_core.clock import utc_iso
from ec_core.data.ohlcv_file import read_bar_ticks
from ec_core.data.tick_buffer import TickBuffer
from ec_core.data.tick_checks import TickChecks
from ec_core.data.ticks_csv import read_tick_chunks
from ec_core.errors import ConfigError
from ec_core.front import open_venue
from ec_core.model import Bar, Instrument, MarketEvent, Quote
from ec_core.plugins import PluginHost
from ec_core.settings import Settings
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.report import ReplayReport, build_report
from ec_core.strategy.rig import TradingRig, trading_rig
from ec_core.strategy.signal import numbered_signals
from ec_core.strategy.signal_rows import SignalLog
from ec_core.vendor import ReplayFeed, SupportsReplay

__all__ = ["DEFAULT_REPLAY_ACCOUNT", "replay_feed", "replay_plan"]

DEFAULT_REPLAY_ACCOUNT = "REPLAY-1"


async def replay_plan(
    host: PluginHost,
    plan: StrategyPlan,
    ticks: str | Path | Iterable[MarketEvent],
    *,
    account_id: str = DEFAULT_REPLAY_ACCOUNT,
    seed: int = 0,
    vendor_settings: Mapping[str, Any] | None = None,
    on_rig: Callable[[TradingRig], None] | None = None,
    show_market: bool = True,
    tick_checks: TickChecks | None = None,
    bar_length_ns: int | None = None,
) -> ReplayReport:
    """Replay ``ticks`` (a CSV path or events) through ``plan`` on the mock vendor.

    With ``bar_length_ns`` the file holds OHLCV bars of that length
    (:mod:`ec_core.data.ohlcv_file`): each bar is replayed as the fixed path of
    :mod:`ec_core.data.ohlcv`, checked by ``tick_checks`` like a tick file.

    A tick file is checked row by row (:mod:`ec_core.data.tick_checks`): strictly by
    default; pass ``tick_checks`` to sort or to skip and count broken rows (the report
    says what was skipped or reordered).

    ``show_market=False`` keeps the recorded ticks from the venue (the book stays
    empty but for our own orders): the benchmark's way to time the order path alone.
    """
    settings: dict[str, Any] = dict(vendor_settings or {})
    settings.update({"seed": seed, "market": False, "clock": "simulated", "account_id": account_id})
    # its signals are numbered from sig1, whatever ran before in the process
    with numbered_signals():
        # the venue connect and ec run open, on the mock: no limits file, no journal
        async with open_venue(host, Settings(vendor="mock"), settings) as venue:
            session = venue.session
            market = replay_feed(session)
            checks: TickChecks | None = None
            if isinstance(ticks, str | Path):
                table = {s: await session.resolve(s) for s in plan.symbols}
                lookup = _file_lookup(table, market)
                checks = tick_checks if tick_checks is not None else TickChecks()
                chunks: Iterable[Iterable[MarketEvent]] = (
                    read_tick_chunks(ticks, lookup, checks=checks)
                    if bar_length_ns is None
                    else (read_bar_ticks(ticks, lookup, length_ns=bar_length_ns, checks=checks),)
                )
            else:
                chunks = (ticks,)
            # the report keeps a row of each finished signal, the engine none of them whole
            instruments: dict[str, Instrument] = {}
            finished = SignalLog(instruments)
            async with trading_rig(
                host,
                session,
                plan,
                account_id=account_id,
                clock=market.clock,
                engine_clock=None,
                signal_history=0,
                on_signal_finished=finished.add,
            ) as rig:
                instruments.update(rig.instruments)
                if on_rig is not None:
                    on_rig(rig)
                marks: list[tuple[int, str, Decimal]] = []
                for symbol, feed in rig.engine.feeds.items():
                    buffer = feed.tick_buffer
                    buffer.add_bar_listener(
                        _marker(marks, symbol, buffer, buffer.timeframes[0].name)
                    )
                first, events = _first_of(chunks)  # the venue is shown each tick (its stream)
                started = time.perf_counter()
                if first is not None:
                    await rig.engine.replay(
                        events, sync=_StreamSync(rig.backlog, market), venue_sees_ticks=show_market
                    )
                await _settle(rig)
                wall = time.perf_counter() - started
                engine = rig.engine
                last_ns = engine.clock.now_ns()
                held = engine.expire_held(
                    f"activation window never opened within the replayed data (last tick"
                    f" {utc_iso(last_ns)}; a window from the wall clock lies after recorded data)"
                )
                for symbol, feed in engine.feeds.items():  # the last mid, where the run ended
                    mid = exact_mid(feed.instrument.tick_size, feed.tick_buffer.quote)
                    if mid is not None:
                        marks.append((last_ns, symbol, mid))
                return build_report(
                    fills=rig.tracker.fills(account_id),
                    marks=marks,
                    instruments=rig.instruments,
                    signals=engine.signals,
                    finished=finished,
                    errors=list(engine.errors),
                    disabled=dict(engine.disabled),
                    ticks=engine.events + engine.feeds.unknown_events,
                    first_ns=first.ts_ns if first is not None else 0,
                    last_ns=last_ns,
                    wall_s=wall,
                    orders_sent=engine.orders_sent,
                    order_counts=engine.outcomes.snapshot(),
                    denied=engine.outcomes.denials,
                    held=held,
                    warnings=_unknown_accounts(rig.executor.unknown_accounts, account_id),
                    tick_checks=checks.summary() if checks is not None else None,
                    orders=rig.tracker.orders(account_id),
                    slippage_ticks=_slippage_ticks(settings),
                )


def _first_of(
    chunks: Iterable[Iterable[MarketEvent]],
) -> tuple[MarketEvent | None, Iterator[MarketEvent]]:
    """The first event of ``chunks`` (``None``: there is none) and every event, that one
    included, through one C iterator over the chunks (a reader's lists): a tick costs a
    step of its chunk's iterator, not a generator step per layer."""
    rest = iter(chunks)
    for chunk in rest:
        events = iter(chunk)
        first = next(events, None)
        if first is not None:
            return first, chain.from_iterable(chain(((first,), events), rest))
    return None, iter(())


def _unknown_accounts(denied: Mapping[str, int], account_id: str) -> list[str]:
    """One warning per account the strategy named that the replay does not trade."""
    return [
        f"{count} order(s) named account {named!r}, which this replay does not trade"
        f" ({account_id}): they were denied (ACCOUNT_UNKNOWN). Trade ctx.account_id, or"
        f" replay as that account (ec replay --account {named}; replay_plan(...,"
        f" account_id={named!r}))."
        for named, count in denied.items()
    ]


def _slippage_ticks(settings: Mapping[str, Any]) -> int:
    """The replay venue's slippage (the mock's ``[vendors.mock.replay]`` table), for the
    report's "slippage paid"; 0 when the venue does not say."""
    table = settings.get("replay")
    value = table.get("slippage_ticks", 0) if isinstance(table, Mapping) else 0
    return value if isinstance(value, int) else 0


def _file_lookup(
    table: dict[str, Instrument], venue: ReplayFeed
) -> Callable[[str], Instrument | None]:
    """The reader's instrument lookup: the plan's resolved symbols, then the venue's
    answer for a symbol outside the plan (asked when its first row comes: the file is
    read once); ``None``, an unknown symbol, makes the reader name the row."""
    known: dict[str, Instrument | None] = dict(table)

    def lookup(symbol: str) -> Instrument | None:
        if symbol in known:
            return known[symbol]
        found = known[symbol] = venue.instrument(symbol)
        return found

    return lookup


def replay_feed(session: object) -> ReplayFeed:
    """``session``'s :class:`~ec_core.vendor.ReplayFeed`, through the optional capability.

    Raises :class:`ConfigError` (``REPLAY_UNSUPPORTED``) for a session without one:
    replays need a simulated venue whose only market is the recorded ticks (the
    ``mock`` vendor with ``clock = "simulated"`` and ``market = false``).
    """
    feed = session.replay if isinstance(session, SupportsReplay) else None
    if feed is None:
        vendor = getattr(session, "vendor", type(session).__name__)
        raise ConfigError(
            f"REPLAY_UNSUPPORTED: vendor {vendor!r} offers no simulated venue to replay ticks"
            " into (use the mock vendor with clock = 'simulated' and market = false)",
            path="vendor",
        )
    return feed


@final
class _StreamSync:
    """The replay's :class:`~ec_core.strategy.engine.ReplaySync` over the trade stream.

    The venue answers synchronously and the executor takes what it can straight from
    the venue's callback (:class:`~ec_core.execution.DirectFeed`); anything queued on
    the stream instead must reach the tracker before the strategies see the next
    tick, so the replay is *dirty* exactly while the stream holds a backlog. The
    backlog is asked only after the venue's :attr:`~ec_core.vendor.ReplayFeed.activity`
    moved: most records change nothing for an account.
    """

    __slots__ = ("_seen", "backlog", "venue")

    def __init__(self, backlog: Callable[[], int], venue: ReplayFeed) -> None:
        self.backlog = backlog
        self.venue = venue
        self._seen = -1

    @property
    def dirty(self) -> bool:
        activity = self.venue.activity
        if activity == self._seen:
            return False
        if self.backlog() > 0:
            return True
        self._seen = activity  # all taken: nothing to wait for until the venue speaks again
        return False

    @dirty.setter
    def dirty(self, value: bool) -> None:
        """The engine clears the flag after waiting; the backlog speaks for itself."""


async def _settle(rig: TradingRig) -> None:
    """Let the trade-stream consumer apply what the last ticks produced."""
    await rig.engine.wait_idle()
    await anyio.lowlevel.checkpoint()
    while rig.backlog():
        await anyio.lowlevel.checkpoint()


def _marker(
    marks: list[tuple[int, str, Decimal]], symbol: str, buffer: TickBuffer, timeframe: str
) -> Callable[[Bar], None]:
    """A bar listener marking the market at the close of each ``timeframe`` bar (no
    per-tick cost).

    The mark is the exact mid of the last quote before the tick that closed the bar (the
    market the bar closed on), stamped at the bar's last nanosecond, so a fill on that tick
    comes after it (stamped at ``end_ns`` it came after the fill and valued the new
    position at the older price). The bar's close is that mid floored to the tick grid,
    half a tick low on every odd spread: it is the mark only where no two-sided quote is
    at hand (trade-only data, a buffer keeping no ticks)."""
    tick_size = buffer.tick_size

    def on_bar(bar: Bar) -> None:
        if bar.timeframe == timeframe:
            mid = exact_mid(tick_size, _quote_before(buffer, bar.end_ns))
            marks.append((bar.end_ns - 1, symbol, tick_size * bar.close if mid is None else mid))

    return on_bar


def _quote_before(buffer: TickBuffer, end_ns: int) -> Quote | None:
    """The last quote stamped before ``end_ns``: the buffer's, unless that one closed the
    bar; then the one before it in the tick ring (``None`` when the ring holds none). The
    scan passes only the trades since that quote, once: a bar a trade closed needs none."""
    quote = buffer.quote
    if quote is None or quote.ts_ns < end_ns:
        return quote
    for event in reversed(buffer.ticks):
        if type(event) is Quote and event.ts_ns < end_ns:
            return event
    return None


def exact_mid(tick_size: Decimal, quote: Quote | None) -> Decimal | None:
    """The quote's mid as an exact price (half a tick on an odd spread), or ``None``
    without both sides: the one price a replay marks equity and open positions at."""
    if quote is None or quote.bid is None or quote.ask is None:
        return None
    return tick_size * (quote.bid + quote.ask) / 2
