"""Where the exchange's events go: the event log, the listeners, both or nowhere.

:class:`EventRouting` is the base of :class:`~ec_mock.engine.core.ExchangeCore`. The
engine emits every event through ``self._emit``, picked here once per change of
sinks (a bound ``list.append`` when there is one, so emitting costs no Python frame),
and delivers what waits in ``self._outbox`` with :meth:`EventRouting._flush` after a
request; ``self._sinks`` tells the hot path whether anybody reads at all. It has its
own module because it is one job with that small surface, apart from the state the
engine's layers share.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from ec_core.model import Quote, Trade, TradeEvent

from ec_mock.engine.listener import Listener

__all__ = ["EventRouting", "ExchangeEvent"]

ExchangeEvent = TradeEvent | Quote | Trade
"""Anything in the event log."""

_LOG_ENCODER = msgspec.json.Encoder(decimal_format="string")


def _discard(event: ExchangeEvent) -> None:
    """Where events go when nobody listens and nothing is recorded."""


class EventRouting:
    """The event log and the listeners of one exchange (see the module docstring)."""

    def __init__(self, *, record: bool) -> None:
        self._listeners: list[Listener] = []
        self._listener_tuple: tuple[Listener, ...] = ()
        self._market_listeners: tuple[Listener, ...] = ()  # those that hear market events
        self._record = record
        self._event_log: list[ExchangeEvent] = []
        self._sinks = record
        # Events waiting for the listeners (quotes and trades go to on_market_event).
        self._outbox: list[ExchangeEvent] = []
        self._emit: Callable[[ExchangeEvent], None] = _discard
        self._route()
        self._flushing = False

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)
        self._listen()

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)
        self._listen()

    def _listen(self) -> None:
        """Who hears what, fixed until the listeners change: a listener whose class says
        ``hears_market_events = False`` (:class:`~ec_mock.engine.listener.Listener`) is not
        called for quotes and prints."""
        self._listener_tuple = tuple(self._listeners)
        self._market_listeners = tuple(each for each in self._listeners if each.hears_market_events)
        self._route()

    @property
    def recording(self) -> bool:
        """Whether :attr:`event_log` keeps every event (``record=`` at construction)."""
        return self._record

    @property
    def event_log(self) -> list[ExchangeEvent]:
        """Every event so far, in order (empty with ``record=False``)."""
        return self._event_log

    @event_log.setter
    def event_log(self, events: list[ExchangeEvent]) -> None:
        self._event_log = events
        self._route()

    def _route(self) -> None:
        """Pick where ``_emit`` sends an event: the log, the listeners' outbox, both, nowhere.

        A bound ``list.append`` when there is one sink: emitting costs no Python frame.
        """
        self._sinks = self._record or bool(self._listeners)
        if self._record and self._listeners:
            log, outbox = self._event_log.append, self._outbox.append

            def both(event: ExchangeEvent) -> None:
                log(event)
                outbox(event)

            self._emit = both
        elif self._record:
            self._emit = self._event_log.append
        elif self._listeners:
            self._emit = self._outbox.append
        else:
            self._emit = _discard

    def _flush(self) -> None:
        if self._flushing or not self._outbox:
            return
        self._flushing = True
        outbox = self._outbox
        done = 0
        try:
            # A listener may submit from its callback: what that emits is appended
            # here and delivered by this loop (a list's iterator reaches what is appended
            # while it runs), after what was already waiting.
            for event in outbox:
                done += 1
                kind = type(event)
                if kind is Quote or kind is Trade:
                    for listener in self._market_listeners:
                        listener.on_market_event(event)  # type: ignore[arg-type]
                else:
                    for listener in self._listener_tuple:
                        listener.on_trade_event(event)  # type: ignore[arg-type]
        finally:
            del outbox[:done]
            self._flushing = False

    def event_log_bytes(self) -> bytes:
        """The event log as JSON lines: the artefact determinism is tested on."""
        encode = _LOG_ENCODER.encode
        return b"".join(encode(event) + b"\n" for event in self._event_log)
