"""Rules on time: good-through dates and the trading-hours gate."""

from __future__ import annotations

from datetime import date, datetime
from typing import final

from ec_core.errors import Violation
from ec_core.model import Duration, Instrument, ModifyOrder, NewOrder, OrderRequest
from ec_core.safety.codes import Code
from ec_core.safety.rules._common import PASS, target_of
from ec_core.safety.trading_hours import SessionClock, local_date
from ec_core.validation import PreTradeContext

__all__ = ["GoodThruDate", "TradingHoursGate"]

_PRICED = (NewOrder, ModifyOrder)  # a tuple: `A | B` builds a union object per call
_ALWAYS = (-(1 << 63), 1 << 63)  # an instrument without a calendar: never gated


@final
class GoodThruDate:
    """GTD needs a date, today or later (exchange time zone, else UTC); only GTD takes one."""

    name = "good_thru_date"
    judges = _PRICED  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        duration: Duration | None
        if isinstance(request, NewOrder):
            duration, when = request.duration, request.good_thru_date
            if when is None and duration is not Duration.GTD:
                return PASS
        elif isinstance(request, ModifyOrder):
            if request.duration is None and request.good_thru_date is None:
                return PASS
            target = target_of(request, context)
            duration = request.duration
            if duration is None:
                if target is None:
                    return PASS
                duration = target.duration
            when = request.good_thru_date
            if when is None and duration is Duration.GTD and target is not None:
                when = target.good_thru_date
        else:
            return PASS
        if duration is not Duration.GTD:
            if request.good_thru_date is None:
                return PASS
            return (
                Violation(
                    code=Code.GTD_DATE_NOT_ALLOWED,
                    field="good_thru_date",
                    rule=f"only GTD orders take a date (duration is {duration})",
                    value=request.good_thru_date,
                ),
            )
        if when is None:
            return (
                Violation(
                    code=Code.GTD_DATE_MISSING, field="good_thru_date", rule="required for GTD"
                ),
            )
        if not isinstance(when, date) or isinstance(when, datetime):
            return (
                Violation(
                    code=Code.GTD_DATE_MISSING,
                    field="good_thru_date",
                    rule="must be a date",
                    value=when,
                ),
            )
        instrument = context.instrument
        calendar = None if instrument is None else instrument.trading_calendar
        today = local_date(context.now_ns, None if calendar is None else calendar.timezone)
        if when < today:
            return (
                Violation(
                    code=Code.GTD_DATE_PAST,
                    field="good_thru_date",
                    rule="must be today or later",
                    value=when.isoformat(),
                    limit=today.isoformat(),
                ),
            )
        return PASS


@final
class TradingHoursGate:
    """New orders and modifies are denied while the instrument's session is closed.

    The sessions, holidays and half days are the instrument's
    :attr:`~ec_core.model.Instrument.trading_calendar`. Instruments without one are
    not gated (the venue is the judge).
    """

    name = "trading_hours"
    judges = _PRICED  # passes every other request type
    __slots__ = ("_open", "_sessions")

    def __init__(self) -> None:
        self._sessions = SessionClock()
        # id(instrument) -> (instrument, since_ns, until_ns): an interval over which its
        # session is known open, so an order then costs two comparisons (no calendar
        # property, no session clock call); an instrument is frozen, its calendar with it
        self._open: dict[int, tuple[Instrument, int, int]] = {}

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        instrument = context.instrument
        if instrument is None or not isinstance(request, _PRICED):
            return PASS
        now_ns = context.now_ns
        known = self._open.get(id(instrument))
        if known is not None and known[0] is instrument and known[1] <= now_ns < known[2]:
            return PASS
        calendar = instrument.trading_calendar
        span = _ALWAYS if calendar is None else self._sessions.open_span(calendar, now_ns)
        if span is not None:
            if len(self._open) > 4096:  # instruments made per order: bounded
                self._open.clear()
            self._open[id(instrument)] = (instrument, *span)
            return PASS
        assert calendar is not None
        windows = "; ".join(
            f"{h.open.isoformat()}-{h.close.isoformat()} (closing weekdays"
            f" {','.join(str(d) for d in h.weekdays)})"
            for h in calendar.sessions
        )
        holiday = calendar.holiday(
            local_date(context.now_ns, calendar.timezone)
        ) or calendar.holiday(calendar.trading_day(context.now_ns))
        if holiday is not None:
            windows += f"; holiday {holiday.day.isoformat()} {holiday.name}".rstrip()
        return (
            Violation(
                code=Code.SESSION_CLOSED,
                field="symbol",
                rule=f"the session of {instrument.symbol} is closed",
                value=context.now_ns,
                limit=f"{windows} {calendar.timezone}",
            ),
        )
