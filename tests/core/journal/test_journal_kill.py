"""Kill -9 a trading process mid-stream; a new process recovers every order from the journal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.journal import Journal
from ec_core.model import OrderState
from ec_core.tracking import OrderTracker

CHILD = Path(__file__).with_name("journal_child.py")
ANSWERED = {OrderState.WORKING, OrderState.PARTIALLY_FILLED, OrderState.FILLED}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_mid_stream_loses_no_order(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    sent: dict[str, str] = {}
    try:
        assert child.stdout is not None
        for line in child.stdout:  # blocks on the pipe: no sleeps, no polling
            _, cl_order_id, state = line.split()
            sent[cl_order_id] = state
            if len(sent) == 150:  # well past the batch size: some commits done, some pending
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        _, stderr = child.communicate()
    assert child.returncode == -signal.SIGKILL, stderr
    assert len(sent) == 150

    tracker = OrderTracker(clock=ManualClock())
    with Journal(path) as journal:
        report = journal.replay(tracker)
    recovered = {o.chain_id: o for o in tracker.orders()}
    missing = set(sent) - set(recovered)
    assert not missing, f"orders lost: {sorted(missing)[:5]}"
    assert set(sent) <= report.client_order_ids
    assert len(recovered) >= len(sent)  # the one in flight at the kill is there too
    for cl_order_id, order in recovered.items():
        # An answer the journal holds is kept; anything else is UNKNOWN, never dropped.
        assert order.state in ANSWERED or order.state is OrderState.UNKNOWN, cl_order_id
    assert sum(o.state in ANSWERED for o in recovered.values()) >= 64  # committed batches
    filled = [o for o in recovered.values() if o.state is OrderState.FILLED]
    assert filled, "the counterparty's fills were journaled"
    assert tracker.position("ACC1", "CLE").qty == sum(o.filled_qty for o in recovered.values())
