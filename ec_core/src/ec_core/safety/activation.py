"""A payload's activation window: not sent before ``start_time``, expired after ``end_time``.

The window belongs to the :class:`~ec_core.execution.Payload`, not to the order
request, so the executor calls :func:`check_activation` itself; the code tells
it what to do: ``NOT_YET_ACTIVE`` (hold it), ``ACTIVATION_EXPIRED`` (expire it),
``ACTIVATION_WINDOW_INVALID`` (deny it).
"""

from __future__ import annotations

from datetime import datetime

from ec_core.calendar import datetime_ns
from ec_core.errors import Violation
from ec_core.safety.codes import Code

__all__ = ["check_activation", "datetime_ns"]


def check_activation(
    start_time: datetime | None, end_time: datetime | None, now_ns: int
) -> Violation | None:
    """The violation of the window at ``now_ns``, or ``None`` when it may be sent now.

    The window is ``[start_time, end_time)``; both ends are optional and must be
    timezone-aware.
    """
    for name, moment in (("start_time", start_time), ("end_time", end_time)):
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            return Violation(
                code=Code.ACTIVATION_WINDOW_INVALID,
                field=name,
                rule="must be a timezone-aware datetime",
                value=moment,
            )
    if start_time is not None and end_time is not None and start_time >= end_time:
        return Violation(
            code=Code.ACTIVATION_WINDOW_INVALID,
            field="end_time",
            rule="must be after start_time",
            value=end_time.isoformat(),
            limit=start_time.isoformat(),
        )
    if start_time is not None and now_ns < datetime_ns(start_time):
        return Violation(
            code=Code.NOT_YET_ACTIVE,
            field="start_time",
            rule="activation window has not started",
            value=now_ns,
            limit=start_time.isoformat(),
        )
    if end_time is not None and now_ns >= datetime_ns(end_time):
        return Violation(
            code=Code.ACTIVATION_EXPIRED,
            field="end_time",
            rule="activation window has ended",
            value=now_ns,
            limit=end_time.isoformat(),
        )
    return None
