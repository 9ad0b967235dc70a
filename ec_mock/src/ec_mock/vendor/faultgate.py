"""Where a fault plan meets a session: every event out passes here, in order.

The sans-I/O :class:`~ec_mock.faults.FaultInjector` decides; this gate applies its
decisions to one :class:`~ec_mock.vendor.session.MockSession`, the way a network
between a venue and its client would:

* every outbound event (trade *and* market: one line, one message count) goes
  through a :class:`~ec_mock.faults.DeliveryQueue`; what is due is delivered at
  once, what is delayed waits until the venue clock reaches its time (the venue
  calls :meth:`FaultGate.on_time` on every clock move);
* order rejects: the injector is installed as the exchange's ``faults`` while the
  session is open, so the engine itself refuses the next K requests with the
  plan's code;
* a due *disconnect* drops the session to RECONNECTING (events are lost, requests
  fail); it comes back on the next clock move with GAP and a fresh snapshot;
* a due *restart* restarts the venue's exchange on the next clock move (never from
  inside an engine callback), keeping or losing its state as planned;
* acknowledgements stalled "until released" wait for :meth:`release_stalled`.

:meth:`unfired` lists the deterministic faults the plan asked for that never
happened, so a test cannot pass because its fault silently missed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

from ec_core.model import MarketEvent, Quote, Trade, TradeEvent

if TYPE_CHECKING:
    from ec_mock.engine.listener import OrderFaults
    from ec_mock.faults import DeliveryQueue, FaultInjector, FaultPlan
    from ec_mock.vendor.session import MockSession

__all__ = ["FaultGate", "build_gate", "plan_from_marker"]

Outbound = TradeEvent | MarketEvent


@final
class FaultGate:
    """Applies one fault plan to one session (see the module docstring)."""

    def __init__(self, plan: FaultPlan, *, seed: int | None = None) -> None:
        from ec_mock.faults import DeliveryQueue, FaultInjector

        self.plan = plan
        self.injector: FaultInjector = FaultInjector(plan, seed)
        self.queue: DeliveryQueue[Outbound] = DeliveryQueue(self.injector)
        self.disconnects = 0
        self.restarts = 0
        self._session: MockSession | None = None
        self._down_since: int | None = None
        self._restart_pending: bool | None = None  # keep_state of a due restart
        self._previous_faults: OrderFaults | None = None

    # -- binding -------------------------------------------------------------------

    def bind(self, session: MockSession) -> None:
        """Attach to ``session``; install the order-reject source on its venue's exchange."""
        self._session = session
        if self.plan.reject_next:
            exchange = session.venue.exchange
            self._previous_faults = exchange.faults
            exchange.faults = self.injector

    def unbind(self) -> None:
        session = self._session
        if session is not None and session.venue.exchange.faults is self.injector:
            session.venue.exchange.faults = self._previous_faults
        self._session = None

    # -- events ----------------------------------------------------------------------

    def put(self, event: Outbound, now_ns: int) -> None:
        """An event leaves the venue for the client: deliver what is due, then check the line."""
        self.queue.put(event, now_ns)
        self._deliver_due(now_ns)
        self._check_line(now_ns)

    def on_time(self, now_ns: int) -> None:
        """The venue clock moved: reconnect, restart, deliver what is due."""
        session = self._require()
        if self._restart_pending is not None:
            keep_state, self._restart_pending = self._restart_pending, None
            self.restarts += 1
            session.venue.restart(keep_state=keep_state)  # reconnects every session
        if self._down_since is not None and now_ns > self._down_since:
            self._down_since = None
            session.reconnect()
        self._deliver_due(now_ns)
        self._check_line(now_ns)

    def release_stalled(self) -> int:
        """Deliver the acknowledgements stalled "until released"; returns how many."""
        session = self._require()
        now = session.venue.clock.now_ns()
        released = self.injector.release_stalled(now)
        for _, event in released:
            self._deliver(event)
        return len(released)

    def flush(self) -> None:
        """Deliver an event held back for reordering when nothing followed it."""
        now = self._require().venue.clock.now_ns()
        for _, event in self.injector.flush(now):
            self._deliver(event)

    def _deliver_due(self, now_ns: int) -> None:
        for event in self.queue.take_due(now_ns):
            self._deliver(event)

    def _deliver(self, event: Outbound) -> None:
        session = self._require()
        if isinstance(event, Quote | Trade):
            session.deliver_market(event)
        else:
            session.deliver_trade(event)

    def _check_line(self, now_ns: int) -> None:
        session = self._require()
        injector = self.injector
        if injector.should_disconnect(now_ns):
            self.disconnects += 1
            self._down_since = now_ns
            session.disconnect(f"fault plan: disconnect after {injector.messages} message(s)")
        directive = injector.restart_due(now_ns)
        if directive is not None:
            self._restart_pending = directive.keep_state

    def _require(self) -> MockSession:
        if self._session is None:
            raise RuntimeError("fault gate is not bound to a session")
        return self._session

    # -- teardown check --------------------------------------------------------------

    def unfired(self) -> list[str]:
        """Deterministic faults of the plan that did not happen (probabilistic ones are free)."""
        plan, inj = self.plan, self.injector
        missing: list[str] = []
        expected_drops = plan.drop_acks + len(plan.drop_indices)
        checks = [
            ("drop", inj.dropped, expected_drops),
            ("delay", inj.delayed, len(plan.delay_indices)),
            ("duplicate", inj.duplicated, len(plan.duplicate_indices)),
            ("reorder", inj.reordered, len(plan.reorder_indices)),
            ("reject_next", inj.rejected, plan.reject_next),
            ("stall_acks", inj.stalled, plan.stall_acks),
        ]
        for name, done, wanted in checks:
            if done < wanted:
                missing.append(f"{name} ({done} of {wanted})")
        if (plan.disconnect_after is not None or plan.disconnect_at_ns is not None) and (
            not self.disconnects
        ):
            missing.append("disconnect")
        if (plan.restart_after is not None or plan.restart_at_ns is not None) and (
            not self.restarts
        ):
            missing.append("restart")
        return missing


def build_gate(faults: Any, *, seed: int | None = None) -> FaultGate | None:
    """A gate for ``faults`` (a FaultPlan or a table of its fields), or None without one.

    ``seed`` overrides the plan's own seed when given.
    """
    if faults is None:
        return None
    from ec_mock.faults import FaultPlan

    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.from_mapping(faults)
    return FaultGate(plan, seed=seed)


def plan_from_marker(*args: Any, **fields: Any) -> FaultPlan:
    """The plan of ``@pytest.mark.ec_fault(**fields)``; raises ConfigError naming a bad field."""
    from ec_mock.faults import FaultPlan

    if args:
        raise TypeError("ec_fault takes keyword arguments only (the fields of FaultPlan)")
    return FaultPlan.from_mapping(fields)
