"""``ManualClock``: moves only when told to, never back; its time is a plain attribute."""

from __future__ import annotations

import pytest
from ec_core.clock import ManualClock


def test_forward_to_moves_only_to_a_later_time() -> None:
    clock = ManualClock(1_000)
    clock.forward_to(1_500)
    clock.forward_to(1_200)  # earlier: the clock stays where it is
    assert clock.now_ns() == 1_500
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(1_499)
    clock.advance(10)
    assert clock.now_ns() == 1_510


def test_ts_ns_is_the_time_every_method_reads_and_moves() -> None:
    """A replay compares each record with ``ts_ns`` and stores a later one (no call per
    record): the methods see it, and move it."""
    clock = ManualClock(1_000)
    assert clock.ts_ns == 1_000
    clock.ts_ns = 2_000
    assert clock.now_ns() == 2_000
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(1_999)
    clock.forward_to(2_500)
    assert clock.ts_ns == 2_500
