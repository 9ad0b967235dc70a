"""``ec run`` killed (SIGKILL) mid-trade and started again on the same journal, against a
venue in another process that outlives it: ``ec mock serve --dialect cqg`` (the one venue
``ec run`` trades over a process boundary, through ec's CQG client), as of a Wednesday
morning in Chicago so the market trades whatever the real date.

Every step waits on a line ``ec run`` prints or on the journal's file; nothing sleeps to
wait. Where the order must be sent but not answered, the venue is frozen (SIGSTOP) while
the strategy's ``generate`` waits on a FIFO the test opens, so the send is the next thing
``ec run`` does and nothing can answer it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import ClassVar, TypeVar

import msgspec
import pytest
from cli_support import EC, TIMEOUT
from ec_core.journal import EventReceived, JournalRecord
from ec_core.model import ExecutionReport, OrderState
from mock_serve import serve_process
from reaping import reap, watchdog

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGSTOP"), reason="needs SIGKILL, SIGSTOP and FIFOs (POSIX)"
)

T = TypeVar("T")
USER, PASSWORD = "crash", "crash-password"
START = "2024-01-10T15:00:01Z"  # 09:00 in Chicago on a Wednesday: in session

STRATEGY = '''
import os
from decimal import Decimal

from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy

SYMBOL = "EP"


class Rest(OpStrategy):
    """One bid for 2, resting 10.00 under the market (or, with CRASH_TAKE, 1.00 over the
    ask: filled), unless an order of ours is open on the symbol or a position is held
    (the journal's recovered orders and fills count): a restart must not double it."""

    def __init__(self, account):
        super().__init__(symbols=[SYMBOL], max_signals=1)
        self.account = account
        self.said = set()

    def say(self, line):
        if line not in self.said:
            self.said.add(line)
            print(line, flush=True)

    def generate(self, ctx, symbol):
        open_orders = ctx.open_orders(symbol)
        if open_orders:
            ids = ",".join(sorted(o.cl_order_id for o in open_orders))
            self.say(f"strategy: open {ids}")
            return None
        held = ctx.position(symbol).qty
        if held:
            self.say(f"strategy: position {held}")
            return None
        if self.produced:
            return None
        tb = ctx.feeds[symbol].tick_buffer
        if tb.quote is None or tb.quote.bid is None or tb.quote.ask is None:
            return None
        if os.environ.get("CRASH_TAKE"):  # cross the spread: filled at once
            price = tb.to_price(tb.quote.ask) + Decimal("1")
        else:
            price = tb.to_price(tb.quote.bid) - Decimal("10")
        bid = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=2,
                       order_type=OrderType.LMT, limit_price=price)
        gate = os.environ.get("CRASH_GATE")
        self.say("strategy: sending")
        if gate:
            with open(gate):  # blocks until the test opens the FIFO to write
                pass

        def hold(ctx):
            if ctx.open_orders(symbol):
                self.say("strategy: order working")
            elif ctx.position(symbol).qty:
                self.say(f"strategy: position {ctx.position(symbol).qty}")
            return False

        return OpSignal(ActionTree(ActionNode("Bid", [bid], transitions={
            "never": (hold, ActionNode("Never", [], hold))})), symbol=symbol)


def resting(info):
    return Rest(info.account_id)
'''


@pytest.fixture
def venue() -> Iterator[tuple[subprocess.Popen[str], str]]:
    args = ("--dialect", "cqg", "--user", USER, "--seed", "5", "--start", START)
    with serve_process(*args, "--history", "0", password=PASSWORD) as (process, _, url):
        yield process, url


@pytest.fixture
def folder(tmp_path: Path, venue: tuple[subprocess.Popen[str], str]) -> Path:
    (tmp_path / "crash_strategy.py").write_text(STRATEGY, encoding="utf-8")
    (tmp_path / "limits.toml").write_text(
        'version = 1\n[defaults]\nmax_order_qty = 5\n[instruments.EP]\n[accounts."1001"]\n',
        encoding="utf-8",
    )
    (tmp_path / "ec.toml").write_text(
        'vendor = "cqg"\naccount_id = "1001"\nlimits_file = "limits.toml"\n'
        'journal_path = "orders.sqlite"\n'
        f'[vendors.cqg]\nurl = "{venue[1]}"\nuser = "{USER}"\npassword_env = "CRASH_PW"\n',
        encoding="utf-8",
    )
    return tmp_path


class Run:
    """``ec run`` on the strategy file as a subprocess; its stdout read line by line.

    Every run is killed and reaped at the test's end (``_reap``), passed or failed: a
    process left running would be reported by a later test, not this one.
    """

    started: ClassVar[list[Run]] = []

    def __init__(self, folder: Path, **env: str) -> None:
        environ = {**os.environ, "CRASH_PW": PASSWORD, **env}
        environ.pop("EC_SETTINGS", None)
        self.process = subprocess.Popen(
            [*EC, "run", "crash_strategy.py:resting", "--config", "ec.toml", "--warmup", "none"],
            cwd=folder, env=environ, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: list[str] = []
        self._watchdog = watchdog(self.process, 3 * TIMEOUT)  # over its waits: never hangs
        Run.started.append(self)

    def until(self, start: str) -> str:
        """Read stdout up to the first line starting with ``start``; that line."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith(start):
                return line
        raise AssertionError(f"ec run ended before {start!r}:\n{self.finish()}")

    def finish(self, sig: int | None = None) -> str:
        """Send ``sig`` (if any), wait for the exit; everything it printed."""
        if sig is not None:
            self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=TIMEOUT)
        self._watchdog.cancel()
        return "".join(self.lines) + out + err


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    while Run.started:
        run = Run.started.pop()
        run._watchdog.cancel()
        reap(run.process)


def _read(folder: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of the journal's committed records, read-only (the writer may live); none
    before the file exists."""
    if not (folder / "orders.sqlite").exists():
        return []
    uri = f"file:{folder / 'orders.sqlite'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return list(db.execute(sql))


def journal_kinds(folder: Path) -> list[tuple[str, str]]:
    """(kind, cl_order_id) of the journal's committed records."""
    rows = _read(folder, "SELECT kind, cl_order_id FROM journal ORDER BY seq")
    return [(str(kind), str(cl_order_id)) for kind, cl_order_id in rows]


def _poll(what: str, found: Callable[[], T | None]) -> T:
    """Poll the journal's file until ``found`` answers (the writer commits within its
    flush interval); fails after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        answer = found()
        if answer is not None:
            return answer
        time.sleep(0.02)  # polling a file another process writes: no event to wait on
    raise AssertionError(f"no {what} in the journal within {TIMEOUT}s")


def wait_for_kind(folder: Path, kind: str) -> list[tuple[str, str]]:
    """The journal's (kind, cl_order_id) rows once a ``kind`` record is committed."""

    def committed() -> list[tuple[str, str]] | None:
        rows = journal_kinds(folder)
        return rows if any(k == kind for k, _ in rows) else None

    return _poll(f"{kind!r} record", committed)


_RECORD = msgspec.msgpack.Decoder(JournalRecord)


def committed_reports(folder: Path) -> list[ExecutionReport]:
    """The venue's reports the journal has committed, in order."""
    reports = []
    for (body,) in _read(folder, "SELECT body FROM journal WHERE kind = 'event' ORDER BY seq"):
        assert isinstance(body, bytes)
        record = _RECORD.decode(body)
        assert isinstance(record, EventReceived)
        if isinstance(record.event, ExecutionReport):
            reports.append(record.event)
    return reports


def wait_for_state(folder: Path, state: OrderState) -> None:
    """Until a committed venue report puts an order in ``state`` (the strategy sees an
    order open from its first report, PENDING_NEW included)."""
    _poll(
        f"{state.name} report",
        lambda: True if any(r.state is state for r in committed_reports(folder)) else None,
    )


def test_sigkill_with_an_order_working_restarts_with_it_and_sends_no_second(
    folder: Path,
) -> None:
    first = Run(folder)
    first.until("strategy: order working")
    # the venue's WORKING report committed by the journal's flush: killed before it, the
    # restart rightly finds the order UNKNOWN (the fill test covers that case); its first
    # report may be PENDING_NEW, which leaves it unanswered too
    wait_for_state(folder, OrderState.WORKING)
    output = first.finish(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL, output
    intents = [c for k, c in journal_kinds(folder) if k == "intent"]
    assert len(intents) == 1
    (order,) = intents

    again = Run(folder)
    recovered = again.until("ec run: journal orders.sqlite: recovered")
    assert "1 orders (1 open, 0 unknown)" in recovered
    reconciled = again.until("ec run: reconciled with the venue")
    assert "clean (1 orders, 0 positions checked)" in reconciled  # the venue still has it
    # the strategy sees the recovered order as its own and sends nothing on top of it
    again.until(f"strategy: open {order}")
    output = again.finish(signal.SIGINT)
    assert again.process.returncode == 0, output
    assert "strategy: sending" not in output
    assert "0 order actions" in output
    assert [c for k, c in journal_kinds(folder) if k == "intent"] == [order]


def send_to_a_frozen_venue(folder: Path, server: subprocess.Popen[str]) -> Run:
    """``ec run`` whose strategy is about to send, the venue frozen (SIGSTOP: nothing
    answers from here on), then let go: the order is journaled and sent, unanswered."""
    gate = folder / "gate.fifo"
    os.mkfifo(gate)
    run = Run(folder, CRASH_GATE=str(gate))
    run.until("strategy: sending")
    server.send_signal(signal.SIGSTOP)
    with open(gate, "w"):  # generate returns
        pass
    return run


def test_sigkill_after_a_send_the_venue_never_answered_resolves_it_at_restart(
    folder: Path, venue: tuple[subprocess.Popen[str], str]
) -> None:
    server, _ = venue
    first = send_to_a_frozen_venue(folder, server)
    rows = wait_for_kind(folder, "sent")
    (order,) = [c for k, c in rows if k == "intent"]
    assert [k for k, c in rows if c == order] == ["intent", "sent"]  # no answer yet
    output = first.finish(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL, output
    server.send_signal(signal.SIGCONT)

    again = Run(folder)
    recovered = again.until("ec run: journal orders.sqlite: recovered")
    assert "1 orders (1 open, 1 unknown)" in recovered  # sent, never answered: UNKNOWN
    reconciled = again.until("ec run: reconciled with the venue")
    assert "clean (1 orders, 0 positions checked)" in reconciled  # the venue had it
    again.until(f"strategy: open {order}")  # resolved, and the strategy does not double it
    output = again.finish(signal.SIGINT)
    assert again.process.returncode == 0, output
    assert "0 order actions" in output
    assert "ec run: working BUY 2 EP LMT @ " in output
    assert f"({order}, WORKING)" in output
    assert [c for k, c in journal_kinds(folder) if k == "intent"] == [order]
    assert "WORKING" in listed(folder)


def listed(folder: Path) -> str:
    """``ec orders list`` on the journal (no ``ec run`` uses it now)."""
    done = subprocess.run(
        [*EC, "orders", "list", "--journal", "orders.sqlite"],
        cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_a_send_leaves_the_journal_consistent(
    folder: Path, venue: tuple[subprocess.Popen[str], str], sig: int
) -> None:
    server, _ = venue
    first = send_to_a_frozen_venue(folder, server)
    wait_for_kind(folder, "intent")  # committed before the send; the send is under way
    first.process.send_signal(sig)
    output = first.finish()
    assert first.process.returncode == 0, output
    server.send_signal(signal.SIGCONT)
    # unanswered at the stop: left UNKNOWN, said so; its cancel could not be placed (the
    # session has no venue id for it) and is journaled as failed, not as sent
    rows = journal_kinds(folder)
    (order, *cancels) = [c for k, c in rows if k == "intent"]
    # the summary agrees with the order's state at stop: its action had no answer
    assert "1 sent (0 rejected, 1 unknown)" in output
    assert "0 orders working, 1 orders UNKNOWN" in output
    assert "ec run: unknown BUY 2 EP LMT @ " in output
    assert f"({order}, UNKNOWN): check it with the venue" in output
    assert [k for k, c in rows if c == order] == ["intent", "sent", "unknown"]
    for cancel in cancels:
        assert [k for k, c in rows if c == cancel] == ["intent", "send_failed"]
    assert "UNKNOWN" in listed(folder)

    again = Run(folder)
    again.until("ec run: journal orders.sqlite: recovered")
    reconciled = again.until("ec run: reconciled with the venue")
    if "difference(s)" in reconciled:
        # the stop closed the connection while the frozen venue still held the order's
        # frame unread: a reset drops it, so the venue never had it. Not found, not
        # voided either (it could still arrive): UNKNOWN, and said so
        assert (
            f"1 difference(s): MISSING_AT_VENUE {order} (ours UNKNOWN, venue -);"
            f" still unknown: {order};"
        ) in reconciled
        venue_has_it = False
    else:  # the venue read the frame before the close: it has the order
        assert "clean (1 orders, 0 positions checked)" in reconciled
        venue_has_it = True
    again.until(f"strategy: open {order}")
    output = again.finish(signal.SIGINT)
    assert again.process.returncode == 0, output
    if venue_has_it:
        assert f"({order}, WORKING)" in output
        assert "1 orders working, 0 orders UNKNOWN" in output  # reconciled at the start
    else:  # UNKNOWN still, or voided by a later query: never shown as working
        assert "0 orders working" in output
    assert [c for k, c in journal_kinds(folder) if k == "intent"] == [order, *cancels]


def test_sigkill_after_a_fill_restarts_with_the_position_and_buys_no_more(folder: Path) -> None:
    first = Run(folder, CRASH_TAKE="1")
    first.until("strategy: position 2")  # filled: the tracker has the fills
    output = first.finish(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL, output
    (order,) = [c for k, c in journal_kinds(folder) if k == "intent"]
    # The venue answers PENDING_NEW, WORKING and the fill(s) in turn, and the journal
    # commits what it has every flush interval: the kill left any prefix of them committed,
    # each with its own reconciliation (what is committed is read now, the writer dead).
    reports = committed_reports(folder)
    last = reports[-1] if reports else None

    again = Run(folder)
    again.until("ec run: journal orders.sqlite: recovered")
    reconciled = again.until("ec run: reconciled with the venue")
    if last is not None and last.state is OrderState.FILLED:
        assert "clean (0 orders, 1 positions checked)" in reconciled  # the journal alone
    else:
        # open at the restart in its last committed state (UNKNOWN when no answer past
        # PENDING_NEW was): the venue's snapshot closes it and its position is adopted
        if last is None or last.state is OrderState.PENDING_NEW:
            ours, held = "UNKNOWN", 0
        else:
            ours, held = last.state.name, last.filled_qty
        assert (
            f"2 difference(s): CLOSED_AT_VENUE {order} (ours {ours}, venue FILLED),"
            f" POSITION_MISMATCH EP (ours {held}, venue 2); still unknown: none;"
        ) in reconciled
    again.until("strategy: position 2")
    output = again.finish(signal.SIGINT)
    assert again.process.returncode == 0, output
    assert "strategy: sending" not in output
    assert "0 order actions" in output
    assert "ec run: EP: position +2 @ " in output  # not +4: the fills are counted once
    assert [c for k, c in journal_kinds(folder) if k == "intent"] == [order]
    assert listed(folder).strip() == "no open orders in orders.sqlite"
