"""The payload status lifecycle: denied, rejected and unknown stay apart."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from ec_core.errors import EcError
from ec_core.execution import PAYLOAD_TRANSITIONS, Payload, PayloadStatus
from ec_core.model import CancelOrder, OrderRequest

P = PayloadStatus

EXPECTED: dict[PayloadStatus, set[PayloadStatus]] = {
    P.PENDING: {P.VALIDATED, P.DENIED, P.EXPIRED},
    P.VALIDATED: {P.SENT, P.EXPIRED, P.FAILED, P.DENIED, P.REJECTED},
    P.SENT: {P.ACKNOWLEDGED, P.REJECTED, P.UNKNOWN, P.DONE},
    P.ACKNOWLEDGED: {P.DONE},
    P.UNKNOWN: {P.ACKNOWLEDGED, P.REJECTED, P.DONE},
    P.DONE: set(),
    P.DENIED: set(),
    P.REJECTED: set(),
    P.EXPIRED: set(),
    P.FAILED: set(),
}
PATH: dict[PayloadStatus, list[PayloadStatus]] = {
    P.PENDING: [],
    P.VALIDATED: [P.VALIDATED],
    P.SENT: [P.VALIDATED, P.SENT],
    P.ACKNOWLEDGED: [P.VALIDATED, P.SENT, P.ACKNOWLEDGED],
    P.UNKNOWN: [P.VALIDATED, P.SENT, P.UNKNOWN],
    P.DONE: [P.VALIDATED, P.SENT, P.DONE],
    P.DENIED: [P.DENIED],
    P.REJECTED: [P.VALIDATED, P.SENT, P.REJECTED],
    P.EXPIRED: [P.EXPIRED],
    P.FAILED: [P.VALIDATED, P.FAILED],
}
PAIRS = [(a, b) for a, b in itertools.product(PayloadStatus, PayloadStatus) if a is not b]


def payload_at(status: PayloadStatus) -> Payload:
    payload = Payload(
        request=CancelOrder(account_id="A1", symbol="CLZ5", orig_cl_order_id="o1"), request_id=7
    )
    for step in PATH[status]:
        payload.advance(step, reason=f"to {step}")
    assert payload.status is status
    return payload


def test_table_matches_the_contract() -> None:
    assert {s: set(t) for s, t in PAYLOAD_TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize("status", list(PayloadStatus))
def test_final_means_no_way_out(status: PayloadStatus) -> None:
    assert status.is_final is (not EXPECTED[status])


def test_nothing_is_sent_after_a_denial_and_nothing_denied_after_sending() -> None:
    assert P.SENT not in PAYLOAD_TRANSITIONS[P.DENIED]
    for status in (P.SENT, P.ACKNOWLEDGED, P.UNKNOWN):
        assert P.DENIED not in PAYLOAD_TRANSITIONS[status]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=str)
def test_every_status_change_is_allowed_or_refused_by_the_table(
    source: PayloadStatus, target: PayloadStatus
) -> None:
    payload = payload_at(source)
    if target in EXPECTED[source]:
        payload.advance(target, reason="why")
        assert (payload.status, payload.status_reason) == (target, "why")
    else:
        with pytest.raises(EcError, match=f"payload 7: .*{source.value} -> {target.value}"):
            payload.advance(target, reason="why")
        assert payload.status is source
        assert payload.status_reason != "why"


def test_advancing_to_the_same_status_keeps_the_first_reason() -> None:
    payload = payload_at(P.SENT)
    payload.advance(P.SENT, reason="again")
    assert payload.status_reason == f"to {P.SENT}"


def test_payload_round_trips_through_msgspec_with_its_tagged_request() -> None:
    payload = payload_at(P.UNKNOWN)
    for encode, decode in (
        (msgspec.json.encode, msgspec.json.decode),
        (msgspec.msgpack.encode, msgspec.msgpack.decode),
    ):
        back = decode(encode(payload), type=Payload)
        assert back == payload
        request: OrderRequest = back.request
        assert isinstance(request, CancelOrder)
