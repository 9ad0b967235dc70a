"""An order for an account the session does not trade ends at once, never in a timeout.

Two doors: the executor knows the session's accounts and denies before sending
(``ACCOUNT_UNKNOWN``, naming the account and the known ones); the mock venue's
gateway refuses an account the logon does not trade at once with the engine's
``UNKNOWN_ACCOUNT`` code (as the CQG dialect does), even for an account that
exists on the venue under another logon.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest
from ec_core.errors import OrderDeniedError, OrderRejectedError
from ec_core.execution import Payload, PayloadStatus
from ec_core.journal import SendFailed
from ec_core.model import NewOrder
from ec_core.safety.codes import Code
from exec_rig import ACCOUNT, COUNTERPARTY, limit, rig

OTHER = "1000"  # the EC_API README's module-level ACCOUNT_ID, as a str


def order_for(account_id: str, cl_order_id: str = "") -> NewOrder:
    return msgspec.structs.replace(limit(), account_id=account_id, cl_order_id=cl_order_id)


@pytest.mark.anyio
async def test_the_executor_denies_an_account_the_session_does_not_trade() -> None:
    async with rig(session_accounts=[ACCOUNT]) as r:
        payload = Payload(request=order_for(OTHER), request_id=1)
        with anyio.fail_after(1), pytest.raises(OrderDeniedError) as info:
            await r.executor.execute(payload)
        [violation] = info.value.violations
        assert violation.code == Code.ACCOUNT_UNKNOWN
        assert violation.field == "account_id"
        assert violation.value == OTHER
        assert violation.limit == ACCOUNT  # the accounts the session knows
        assert "ACC1" in str(info.value)
        assert payload.status is PayloadStatus.DENIED
        assert r.tracker.open_orders() == []


@pytest.mark.anyio
async def test_the_direct_path_denies_it_too() -> None:
    async with rig(session_accounts=[ACCOUNT]) as r:
        with pytest.raises(OrderDeniedError, match="ACCOUNT_UNKNOWN"):
            await r.executor.send_direct(order_for(COUNTERPARTY))
        assert r.received(COUNTERPARTY) == []


@pytest.mark.anyio
async def test_the_mock_gateway_rejects_another_logons_account_at_once() -> None:
    """CP exists on the venue but this logon does not trade it: no order lands there."""
    async with rig() as r:
        with anyio.fail_after(1), pytest.raises(OrderRejectedError) as info:
            await r.session.orders.send(order_for(COUNTERPARTY, "x1"))
        assert info.value.code == "UNKNOWN_ACCOUNT"
        assert "'CP'" in info.value.text
        assert "ACC1" in info.value.text
        assert r.received(COUNTERPARTY) == []


@pytest.mark.anyio
async def test_a_venue_reject_at_the_door_is_rejected_not_unknown(tmp_path: Path) -> None:
    """Without the session's accounts the executor sends; the venue's answer comes at once."""
    async with rig(journal_path=tmp_path / "j.sqlite", ack_timeout=30.0) as r:
        payload = Payload(request=order_for(OTHER), request_id=1)
        with anyio.fail_after(1), pytest.raises(OrderRejectedError, match="UNKNOWN_ACCOUNT"):
            await r.executor.execute(payload)
        assert payload.status is PayloadStatus.REJECTED
        assert r.tracker.open_orders() == []  # nothing counts against limits
        assert r.journal is not None
        r.executor.flush()
        failed = [rec for _, rec in r.journal.records() if isinstance(rec, SendFailed)]
        assert [f.cl_order_id for f in failed] == [payload.request.cl_order_id]
        assert "UNKNOWN_ACCOUNT" in failed[0].reason
