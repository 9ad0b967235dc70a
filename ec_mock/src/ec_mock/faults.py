"""Declarative, seeded fault plans and the sans-I/O injector that carries them out.

A :class:`FaultPlan` says *what* goes wrong; a :class:`FaultInjector` makes it go
wrong, deterministically for a given seed. Front ends (the in-process vendor, a
wire-dialect server) pass every outbound event through :meth:`FaultInjector.process`
and deliver what it returns when it says; they ask :meth:`should_disconnect` and
:meth:`restart_due` after each message or clock step; and they hand the injector to
the :class:`~ec_mock.engine.Exchange` (``faults=``) so it can refuse orders.

Message faults (delay, drop, duplicate, reorder) pick their victims either by
probability (drawn from the injector's own generator) or by exact 0-based index in
the outbound sequence, and apply only to the event kinds named in ``kinds`` (all
when empty). A kind is an event tag (``execution``, ``position``, ``account``,
``quote``, ``trade``, ``session``, ``snapshot_complete``) or an execution report kind
(``ACCEPTED``, ``FILL``, ``REJECTED`` ...).

The plan is a msgspec struct, so it loads from a dict, JSON or a TOML table::

    seed = 7
    drop_indices = [3]
    reject_next = 2
    reject_code = "INSUFFICIENT_BUYING_POWER"
    disconnect_after = 50
"""

from __future__ import annotations

import heapq
import random
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar, final

import msgspec
from ec_core.errors import ConfigError
from ec_core.model import ExecutionReport, ReportKind, RequestType

__all__ = [
    "ACK_KINDS",
    "DeliveryQueue",
    "FaultInjector",
    "FaultPlan",
    "RestartDirective",
    "event_kinds",
]

E = TypeVar("E")

Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]

ACK_KINDS = frozenset({ReportKind.ACCEPTED, ReportKind.MODIFIED, ReportKind.CANCELLED})
"""Execution reports that acknowledge a request (what ``stall_acks``/``drop_acks`` hit)."""


@final
class FaultPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What goes wrong. Every field defaults to "nothing"; combine freely."""

    seed: int = 0
    kinds: tuple[str, ...] = ()  # which outbound events message faults apply to; () = all
    # delay: deliver ``delay_ns`` (+ uniform jitter) later
    delay_ns: NonNegative = 0
    delay_jitter_ns: NonNegative = 0
    delay_probability: Probability = 0.0
    delay_indices: tuple[int, ...] = ()
    # drop: never deliver
    drop_probability: Probability = 0.0
    drop_indices: tuple[int, ...] = ()
    drop_acks: NonNegative = 0  # drop the first N acknowledgements (ACCEPTED/MODIFIED/CANCELLED)
    # duplicate: deliver twice
    duplicate_probability: Probability = 0.0
    duplicate_indices: tuple[int, ...] = ()
    # reorder: hold the event and deliver it right after the next one
    reorder_probability: Probability = 0.0
    reorder_indices: tuple[int, ...] = ()
    # disconnect the client once N messages went out, and/or at a time
    disconnect_after: NonNegative | None = None
    disconnect_at_ns: int | None = None
    # order-level: the exchange rejects the next K requests (after skipping some)
    reject_next: NonNegative = 0
    reject_code: str = "FAULT_INJECTED"
    reject_after: NonNegative = 0  # let this many requests through first
    reject_request_types: tuple[RequestType, ...] = (RequestType.NEW,)
    # stall acknowledgements: hold them ``stall_acks_ns`` (None: until released)
    stall_acks: NonNegative = 0  # how many acks to stall; 0 = none
    stall_acks_ns: NonNegative | None = None
    # restart the exchange once N messages went out, and/or at a time
    restart_after: NonNegative | None = None
    restart_at_ns: int | None = None
    restart_keep_state: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultPlan:
        """Build a plan from a dict (a TOML table, a pytest marker's kwargs)."""
        try:
            return msgspec.convert(dict(data), cls, strict=False)
        except msgspec.ValidationError as exc:
            message = str(exc)
            where = message.rpartition("`$.")[2].rstrip("`") if "`$." in message else None
            raise ConfigError(f"fault plan: {message}", path=where) from None

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        """A plan from a TOML file (its top level, or its ``[faults]`` table)."""
        path = Path(path)
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot load fault plan: {exc}", path=str(path)) from None
        table = document.get("faults", document)
        return cls.from_mapping(table)

    @classmethod
    def reject_next_orders(cls, count: int, code: str = "FAULT_INJECTED", **more: Any) -> FaultPlan:
        """The ``reject_next(k, code)`` scenario: the next ``count`` new orders are rejected."""
        return cls.from_mapping({"reject_next": count, "reject_code": code, **more})


class RestartDirective(msgspec.Struct, frozen=True, kw_only=True):
    """The plan asks for an exchange restart now; ``keep_state`` says from a snapshot or empty."""

    keep_state: bool
    ts_ns: int


def event_kinds(event: object) -> tuple[str, ...]:
    """The names a plan's ``kinds`` can match for ``event``."""
    tag = type(event).__struct_config__.tag if isinstance(event, msgspec.Struct) else None
    names: list[str] = [tag] if isinstance(tag, str) else [type(event).__name__.lower()]
    if isinstance(event, ExecutionReport):
        names.append(event.kind.value)
    return tuple(names)


@final
class FaultInjector:
    """Carries out a :class:`FaultPlan` on an outbound event sequence (sans-I/O).

    ``seed`` overrides the plan's seed. All decisions are drawn in a fixed order per
    message, so the same plan, seed and events give the same faults.
    """

    def __init__(self, plan: FaultPlan, seed: int | None = None) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed if seed is None else seed)
        self.messages = 0  # outbound events seen
        self.delivered = 0
        self.dropped = 0
        self.duplicated = 0
        self.delayed = 0
        self.reordered = 0
        self.stalled = 0
        self.rejected = 0
        self._requests = 0  # order requests seen by order_reject (of the plan's types)
        self._acks_dropped = 0
        self._held: tuple[int, object] | None = None  # reorder buffer: (deliver_at, event)
        self._stalled: list[object] = []  # acks held until release_stalled()
        self._disconnected = False
        self._restarted = False
        self._drop = frozenset(plan.drop_indices)
        self._delay = frozenset(plan.delay_indices)
        self._duplicate = frozenset(plan.duplicate_indices)
        self._reorder = frozenset(plan.reorder_indices)
        self._kinds = frozenset(plan.kinds)

    # -- outbound messages -------------------------------------------------------------
    def _chosen(self, index: int, indices: frozenset[int], probability: float) -> bool:
        if index in indices:
            return True
        return probability > 0.0 and self.rng.random() < probability

    def process(self, event: E, now_ns: int) -> list[tuple[int, E]]:
        """What to deliver for ``event``: ``(deliver_at_ns, event)`` pairs, possibly none,
        possibly also an earlier event that was being held back for reordering."""
        plan = self.plan
        index = self.messages
        self.messages += 1
        is_ack = isinstance(event, ExecutionReport) and event.kind in ACK_KINDS
        if is_ack and self._acks_dropped < plan.drop_acks:
            self._acks_dropped += 1
            self.dropped += 1
            return self._release_held([])
        if self._kinds and self._kinds.isdisjoint(event_kinds(event)):
            return self._release_held([(now_ns, event)])
        if self._chosen(index, self._drop, plan.drop_probability):
            self.dropped += 1
            return self._release_held([])
        at = now_ns
        if self._chosen(index, self._delay, plan.delay_probability):
            jitter = self.rng.randint(0, plan.delay_jitter_ns) if plan.delay_jitter_ns else 0
            at = now_ns + plan.delay_ns + jitter
            self.delayed += 1
        if is_ack and self.stalled < plan.stall_acks:
            self.stalled += 1
            if plan.stall_acks_ns is None:
                self._stalled.append(event)
                return self._release_held([])
            at = max(at, now_ns + plan.stall_acks_ns)
        out: list[tuple[int, E]] = [(at, event)]
        if self._chosen(index, self._duplicate, plan.duplicate_probability):
            self.duplicated += 1
            out.append((at, event))
        if self._held is None and self._chosen(index, self._reorder, plan.reorder_probability):
            self.reordered += 1
            self._held = out[0]
            return out[1:]
        return self._release_held(out)

    def _release_held(self, out: list[tuple[int, E]]) -> list[tuple[int, E]]:
        if self._held is not None:
            at, held = self._held
            self._held = None
            last = out[-1][0] if out else at
            out.append((max(at, last), held))  # type: ignore[arg-type]
        self.delivered += len(out)
        return out

    def flush(self, now_ns: int) -> list[tuple[int, Any]]:
        """Deliver an event still held for reordering (nothing came after it)."""
        if self._held is None:
            return []
        at, held = self._held
        self._held = None
        self.delivered += 1
        return [(max(at, now_ns), held)]

    def release_stalled(self, now_ns: int) -> list[tuple[int, Any]]:
        """Let go of acknowledgements stalled "until released", in their original order."""
        out = [(now_ns, event) for event in self._stalled]
        self._stalled.clear()
        self.delivered += len(out)
        return out

    # -- connection and exchange faults ------------------------------------------------
    def should_disconnect(self, now_ns: int) -> bool:
        """True once, when the plan's disconnect is due (after N messages or at a time)."""
        if self._disconnected:
            return False
        plan = self.plan
        due = (plan.disconnect_after is not None and self.messages >= plan.disconnect_after) or (
            plan.disconnect_at_ns is not None and now_ns >= plan.disconnect_at_ns
        )
        if due:
            self._disconnected = True
        return due

    def restart_due(self, now_ns: int) -> RestartDirective | None:
        """A directive once, when the plan's exchange restart is due."""
        if self._restarted:
            return None
        plan = self.plan
        due = (plan.restart_after is not None and self.messages >= plan.restart_after) or (
            plan.restart_at_ns is not None and now_ns >= plan.restart_at_ns
        )
        if not due:
            return None
        self._restarted = True
        return RestartDirective(keep_state=plan.restart_keep_state, ts_ns=now_ns)

    def order_reject(self, request_type: RequestType, ts_ns: int) -> str | None:
        """The exchange asks this for every request; a code means "reject it"."""
        plan = self.plan
        if not plan.reject_next or request_type not in plan.reject_request_types:
            return None
        self._requests += 1
        if self._requests <= plan.reject_after:
            return None
        if self.rejected >= plan.reject_next:
            return None
        self.rejected += 1
        return plan.reject_code


@final
class DeliveryQueue(Generic[E]):
    """A front end's outbound queue through an injector: put events in, take what is due.

    Events due at the same time keep the order the injector gave them.
    """

    def __init__(self, injector: FaultInjector | None) -> None:
        self.injector = injector
        self._heap: list[tuple[int, int, E]] = []
        self._seq = 0

    def put(self, event: E, now_ns: int) -> None:
        pairs = [(now_ns, event)] if self.injector is None else self.injector.process(event, now_ns)
        for at, item in pairs:
            heapq.heappush(self._heap, (at, self._seq, item))
            self._seq += 1

    def take_due(self, now_ns: int) -> list[E]:
        heap = self._heap
        out: list[E] = []
        while heap and heap[0][0] <= now_ns:
            out.append(heapq.heappop(heap)[2])
        return out

    def next_due_ns(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
