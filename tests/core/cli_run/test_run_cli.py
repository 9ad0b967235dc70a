"""``ec run`` and ``ec replay`` as a user runs them: subprocesses on a strategy file.

``ec run`` is stopped with SIGINT once it says (on stdout) what the test waits for:
the strategy's order is working, or an order was denied; no test sleeps. The safety
stack of the settings file (limits, kill switch, journal) is tested the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import xml.dom.minidom
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import EC, TIMEOUT, ec
from reaping import reap, watchdog

T0 = 1_704_898_800_000_000_000 + 1_000_000_000

STRATEGY = '''
from collections.abc import Iterator
from decimal import Decimal

from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy

SYMBOL = "CLE"


class Scalp(OpStrategy):
    """Buy at the ask when flat, take profit 5 ticks higher."""

    def __init__(self, account):
        super().__init__(symbols=[SYMBOL], max_signals=1)
        self.account = account

    def generate(self, ctx, symbol):
        if ctx.open_orders(symbol) or ctx.position(symbol).qty:
            return None
        tb = ctx.feeds[symbol].tick_buffer
        if tb.quote is None or tb.quote.ask is None:
            return None
        entry = tb.to_price(tb.quote.ask)
        buy = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=1,
                       order_type=OrderType.LMT, limit_price=entry)
        sell = NewOrder(account_id=self.account, symbol=symbol, side=Side.SELL, qty=1,
                        order_type=OrderType.LMT, limit_price=entry + Decimal("0.05"))
        up = lambda ctx: tb.close >= entry + Decimal("0.04")
        root = ActionNode("Entry", [buy], transitions={"tp": (up, ActionNode("TP", [sell], up))})
        return OpSignal(ActionTree(root), symbol=symbol)


class Rest(OpStrategy):
    """One resting bid far under the market; says so on stdout once it is working."""

    def __init__(self, account):
        super().__init__(symbols=[SYMBOL], max_signals=1)
        self.account = account
        self.said = False

    def generate(self, ctx, symbol):
        if self.produced:
            return None
        bid = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=1,
                       order_type=OrderType.LMT, limit_price=Decimal("50.00"))

        def hold(ctx):
            if ctx.open_orders(symbol) and not self.said:
                self.said = True
                print("strategy: order working", flush=True)
            return False

        return OpSignal(ActionTree(ActionNode("Bid", [bid], transitions={
            "never": (hold, ActionNode("Never", [], hold))})), symbol=symbol)


def strategy(info):
    return Scalp(info.account_id)


def resting(info):
    return Rest(info.account_id)
'''


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_strategy.py"
    path.write_text(STRATEGY, encoding="utf-8")
    return path


@pytest.fixture
def tick_file(tmp_path: Path) -> Path:
    """A seeded walk of CLE quotes around 70.00 with a print every fifth quote."""
    import random

    rng = random.Random(1)
    rows = ["ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"]
    ts, mid = T0, 7000
    for i in range(400):
        ts += 100_000_000
        mid += rng.choice((-1, 0, 1))
        rows.append(f"{ts},CLE,quote,,,{mid / 100:.2f},5,{(mid + 1) / 100:.2f},5,")
        if i % 5 == 0:
            side = rng.choice(("BUY", "SELL"))
            price = mid + 1 if side == "BUY" else mid
            rows.append(f"{ts + 1},CLE,trade,{price / 100:.2f},3,,,,,{side}")
    path = tmp_path / "ticks.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_replay_prints_a_report_and_writes_json_and_chart(
    strategy_file: Path, tick_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = ec(
        "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ticks 480 over" in done.stdout
    assert "signals:" in done.stdout
    assert "Entry -> TP" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["ticks"] == 480
    assert report["fills"], "the scalper trades on this tape"
    sides = [t["side"] for t in report["fills"]]
    assert sides[:2] == ["BUY", "SELL"]
    assert report["signal_paths"][0]["path"] == ["Entry", "TP"]
    assert float(report["max_drawdown"]) >= 0
    assert (out / "report.txt").read_text() in done.stdout
    svg = xml.dom.minidom.parse(str(out / "chart.svg"))
    assert len(svg.getElementsByTagName("polyline")) == 2  # price and equity


def test_replay_json_has_the_traders_tables(
    strategy_file: Path, tick_file: Path, tmp_path: Path
) -> None:
    """``report.json``: round trips, statistics, the orders table and daily P&L under
    stable keys, money as strings."""
    done = ec(
        "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    trips = report["trades"]
    assert trips
    assert trips[0]["side"] == "BUY"
    assert trips[0]["entry_time"].endswith("-06:00")  # Chicago, the exchange's zone
    assert isinstance(trips[0]["pnl"], str)
    stats = report["stats"]
    assert stats["trades"] == len(trips)
    assert isinstance(stats["max_drawdown"], str)
    outcomes = {row["outcome"] for row in report["orders"]}
    assert "FILLED" in outcomes
    assert sum(int(d["trades"]) for d in report["daily"]) == len(trips)
    assert (
        "round trips:"
        in ec("replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), cwd=tmp_path).stdout
    )


def test_replay_is_deterministic(strategy_file: Path, tick_file: Path, tmp_path: Path) -> None:
    reports = []
    for name in ("a", "b"):
        done = ec(
            "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file),
            "--out", str(tmp_path / name), "--json", cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        report.pop("wall_s")
        reports.append(report)
    assert reports[0] == reports[1]


def test_replay_takes_commission_and_slippage_from_the_settings_file(
    strategy_file: Path, tick_file: Path, tmp_path: Path
) -> None:
    """``[vendors.mock] commission_per_contract``, ``commission_per_order`` and
    ``[vendors.mock.replay]`` are read: every contract filled pays the commission per
    contract, every order filled the commission per order once."""
    config = tmp_path / "ec.toml"
    config.write_text(
        '[vendors.mock]\ncommission_per_contract = "2.50"\ncommission_per_order = "0.125"\n\n'
        '[vendors.mock.replay]\nslippage_ticks = 1\nmarket = "walk"\n'
    )
    done = ec(
        "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), "--config", str(config),
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    contracts = sum(int(t["qty"]) for t in report["fills"])
    orders = len({t["cl_order_id"] for t in report["fills"]})
    assert contracts > 0
    assert Decimal(report["commissions"]) == Decimal("2.50") * contracts + Decimal("0.125") * orders


def test_a_negative_commission_per_order_is_refused_naming_the_key() -> None:
    from ec_core.errors import ConfigError
    from ec_mock.vendor.config import parse_settings

    with pytest.raises(ConfigError, match="must be >= 0") as caught:
        parse_settings({"commission_per_order": "-1"})
    assert caught.value.path == "vendors.mock.commission_per_order"


def test_replay_names_a_bad_fill_model_key(
    strategy_file: Path, tick_file: Path, tmp_path: Path
) -> None:
    config = tmp_path / "ec.toml"
    config.write_text('[vendors.mock.replay]\nstop_trigger = "bar"\n')
    done = ec(
        "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), "--config", str(config),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "vendors.mock.replay.stop_trigger" in done.stderr


def test_replay_names_a_missing_factory(strategy_file: Path, tick_file: Path) -> None:
    done = ec(
        "replay", f"{strategy_file}:nope", "--ticks", str(tick_file), cwd=strategy_file.parent
    )
    assert done.returncode == 1
    assert "has no callable 'nope'" in done.stderr


def test_replay_names_the_bad_row_of_a_tick_file(strategy_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor\n"
        f"{T0},CLE,quote,,,70.005,5,70.01,5,\n"
    )
    done = ec("replay", f"{strategy_file}:strategy", "--ticks", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "bad.csv:2.bid" in done.stderr


def run_until(
    strategy_file: Path,
    *extra: str,
    factory: str = "resting",
    until: str = "strategy: order working",
) -> tuple[int, str]:
    """Start ``ec run`` on the mock, wait for a line starting with ``until``, then SIGINT it."""
    env = {**os.environ}
    env.pop("EC_SETTINGS", None)
    proc = subprocess.Popen(
        [*EC, "run", f"{strategy_file}:{factory}", "--vendor", "mock", *extra],
        cwd=strategy_file.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    guard = watchdog(proc, TIMEOUT)  # a run that never says `until` fails
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(until):
                proc.send_signal(signal.SIGINT)
                break
        rest, err = proc.communicate(timeout=TIMEOUT)
    finally:
        guard.cancel()
        reap(proc)
    return proc.returncode, "".join(lines) + rest + err


def run_until_working(strategy_file: Path, *extra: str) -> tuple[int, str]:
    return run_until(strategy_file, *extra)


def summary_of(output: str) -> str:
    """The closing line of ``ec run`` (stderr, e.g. log lines, may follow it)."""
    return [line for line in output.splitlines() if line.startswith("ec run: stopped")][-1]


def test_run_stops_cleanly_on_sigint_and_cancels_working_orders(strategy_file: Path) -> None:
    code, output = run_until_working(strategy_file)
    assert code == 0, output
    assert output.startswith("ec run: running")
    assert "ec run: safety: no limits_file: only the host's" in output
    assert "ec run: journal: none" in output
    assert "ec run: reconciled with the venue: clean" in output
    # the mock serves history: a fresh venue has none yet, so the warm-up feeds nothing
    assert "ec run: warmed up from history (" in output
    last = summary_of(output)
    assert "stopped by SIGINT" in last
    assert "1 live at stop, their working orders cancelled" in last
    assert "0 orders working" in last


def test_run_can_leave_working_orders(strategy_file: Path) -> None:
    code, output = run_until_working(strategy_file, "--leave-working")
    assert code == 0, output
    last = summary_of(output)
    assert "their working orders left" in last
    assert "1 orders working" in last


# -- the settings file's safety stack ------------------------------------------------------

ALLOW_CLE = """\
version = 1
[defaults]
max_order_qty = 5
[instruments.CLE]
[accounts."*"]
orders_per_second = 20
"""
ONLY_EP = """\
version = 1
[instruments.EP]
[accounts."*"]
"""


def settings_file(folder: Path, limits: str, journal: str = "orders.sqlite") -> Path:
    (folder / "limits.toml").write_text(limits, encoding="utf-8")
    path = folder / "ec.toml"
    path.write_text(f'limits_file = "limits.toml"\njournal_path = "{journal}"\n')
    return path


def journal_records(path: Path) -> list[object]:
    from ec_core.journal import Journal

    with Journal(path) as journal:
        return [record for _, record in journal.records()]


def test_run_with_limits_that_deny_shows_the_denial_and_sends_nothing(
    strategy_file: Path,
) -> None:
    from ec_core.journal import IntentRecorded, RequestSent

    config = settings_file(strategy_file.parent, ONLY_EP)
    code, output = run_until(strategy_file, "--config", str(config), until="ec run: order denied")
    assert code == 0, output
    assert (
        "ec run: safety: limits limits.toml (default deny, hot reload), kill switch not tripped:"
        " trading allowed"
    ) in output
    denial = next(line for line in output.splitlines() if line.startswith("ec run: order denied"))
    assert "nothing sent" in denial
    assert "INSTRUMENT_NOT_ALLOWED" in denial
    assert "value=CLE" in denial
    assert (
        "1 order actions: 0 sent (0 rejected, 0 unknown), 1 denied (not sent), 0 fills,"
        " 0 orders working, 0 orders UNKNOWN, 1 errors"
    ) in summary_of(output)
    records = journal_records(strategy_file.parent / "orders.sqlite")
    assert not [r for r in records if isinstance(r, IntentRecorded | RequestSent)]


def test_run_journals_its_intents_and_recovers_them_at_the_next_start(
    strategy_file: Path,
) -> None:
    from ec_core.journal import IntentRecorded, OrderVoided, RequestSent
    from ec_core.model import NewOrder

    config = settings_file(strategy_file.parent, ALLOW_CLE)
    journal = strategy_file.parent / "orders.sqlite"
    code, output = run_until(strategy_file, "--config", str(config), "--leave-working")
    assert code == 0, output
    assert "ec run: journal orders.sqlite: recovered 0 records, 0 orders" in output
    records = journal_records(journal)
    intents = [r.request for r in records if isinstance(r, IntentRecorded)]
    assert len(intents) == 1
    first = intents[0]
    assert isinstance(first, NewOrder)
    assert (first.account_id, first.symbol, first.qty, str(first.limit_price)) == (
        "MOCK-1", "CLE", 1, "50.00",
    )  # fmt: skip
    assert [r.cl_order_id for r in records if isinstance(r, RequestSent)] == [first.cl_order_id]

    # a new process on the same journal: the order left working comes back as ours, the
    # (new) mock venue has never heard of it, and the next order takes a fresh id
    code, output = run_until(strategy_file, "--config", str(config))
    assert code == 0, output
    assert "recovered" in output
    assert "1 orders (1 open, 0 unknown)" in output
    assert f"1 difference(s): MISSING_AT_VENUE {first.cl_order_id}" in output
    # the ghost is closed, journaled, and counts against no limit (ec orders list is empty)
    assert f"voided (the venue does not have them, no fills): {first.cl_order_id}" in output
    assert [r.chain_id for r in journal_records(journal) if isinstance(r, OrderVoided)] == [
        first.cl_order_id
    ]
    again = [r.request for r in journal_records(journal) if isinstance(r, IntentRecorded)]
    new_ids = [r.cl_order_id for r in again[1:] if isinstance(r, NewOrder)]
    assert new_ids
    assert first.cl_order_id not in new_ids


def test_ec_orders_lists_the_journals_open_orders_and_the_operator_voids_one(
    strategy_file: Path,
) -> None:
    """After ``ec run --leave-working``: ``ec orders list`` shows the order left working;
    ``ec orders void ID --reason`` closes it (journaled) and the list is empty."""
    from ec_core.journal import OrderVoided

    folder = strategy_file.parent
    config = settings_file(folder, ALLOW_CLE)
    code, output = run_until(strategy_file, "--config", str(config), "--leave-working")
    assert code == 0, output

    def ec(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*EC, "orders", *args, "--config", str(config)],
            cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip

    listed = ec("list")
    assert listed.returncode == 0, listed.stderr
    assert "1 open order(s) in orders.sqlite" in listed.stdout
    [line] = [x for x in listed.stdout.splitlines() if "MOCK-1" in x]
    chain_id = line.split()[0]
    assert "BUY" in line
    assert "0/1 @ 50.00" in line
    assert "WORKING" in line

    refused = ec("void", "no-such-order", "--reason", "typo")
    assert refused.returncode == 1
    assert "VOID_REFUSED: 'no-such-order' is not an open order (not tracked)" in refused.stderr

    voided = ec("void", chain_id, "--reason", "exchange purged it overnight")
    assert voided.returncode == 0, voided.stderr
    assert f"voided {chain_id} (MOCK-1 CLE BUY 1): exchange purged it overnight" in voided.stdout
    assert ec("list").stdout.strip() == "no open orders in orders.sqlite"
    [record] = [r for r in journal_records(folder / "orders.sqlite") if isinstance(r, OrderVoided)]
    assert record.by.startswith("operator")


def test_run_refuses_a_journal_that_lost_its_records_unless_the_operator_accepts(
    strategy_file: Path,
) -> None:
    config = settings_file(strategy_file.parent, ALLOW_CLE)
    journal = strategy_file.parent / "orders.sqlite"
    code, output = run_until(strategy_file, "--config", str(config), "--leave-working")
    assert code == 0, output
    journal.write_bytes(b"")  # the journal lost everything; its head file says otherwise
    env = {**os.environ}
    env.pop("EC_SETTINGS", None)
    refused = subprocess.run(
        [*EC, "run", f"{strategy_file}:resting", "--vendor", "mock", "--config", str(config)],
        cwd=strategy_file.parent, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "JOURNAL_INTEGRITY" in refused.stderr
    assert "empty (0 bytes)" in refused.stderr
    assert "--accept-journal-loss" in refused.stderr
    assert "ec run: running" not in refused.stdout  # nothing traded
    code, output = run_until(
        strategy_file, "--config", str(config), "--accept-journal-loss", "--leave-working"
    )
    assert code == 0, output
    assert "ec run: journal orders.sqlite: recovered 0 records" in output


def test_the_stop_summary_shows_pnl_position_last_price_working_orders_and_market_time(
    strategy_file: Path,
) -> None:
    code, output = run_until_working(strategy_file, "--leave-working", "--seed", "5")
    assert code == 0, output
    lines = output.splitlines()
    at = lines.index(summary_of(output))
    details = lines[at + 1 :]
    assert details[0].startswith("ec run: market time 20")
    assert details[0].endswith("+00:00")
    cle = next(line for line in details if line.startswith("ec run: CLE: position "))
    assert "last " in cle
    assert "realized +0.00 USD" in cle
    assert "unrealized +0.00 USD" in cle
    working = [line for line in details if line.startswith("ec run: working ")]
    assert len(working) == 1
    assert working[0].startswith("ec run: working BUY 1 CLE LMT @ 50.00 (")


def test_report_json_writes_money_with_the_instruments_decimals_and_iso_times_beside_ts_ns(
    strategy_file: Path, tick_file: Path, tmp_path: Path
) -> None:
    import re

    out = tmp_path / "out"
    done = ec(
        "replay", f"{strategy_file}:strategy", "--ticks", str(tick_file), "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    two_places = re.compile(r"^-?\d+\.\d\d$")  # CLE: tick 0.01 x 1000 = 10.00 USD
    for key in ("realized_pnl", "unrealized_pnl", "net_pnl", "commissions", "max_drawdown"):
        assert two_places.match(report[key]), (key, report[key])
    for fill in report["fills"]:
        assert two_places.match(fill["realized"]), fill
        assert fill["time"].startswith("2024-01-10T")
        assert fill["time"].endswith("-06:00")  # CLE trades on Chicago time
    assert report["first_time"] == "2024-01-10T09:00:01.100000-06:00"
    assert report["last_time"].endswith("-06:00")
    assert report["signal_paths"]
    assert report["signal_paths"][0]["transitions"]
    missing = sorted(set(_ns_keys_without_iso_time(report)))
    assert not missing, f"*_ns keys without an ISO time beside them: {missing}"


def _ns_keys_without_iso_time(node: object, where: str = "") -> Iterator[str]:
    """Every ``ts_ns`` needs a ``time`` beside it, every ``X_ns`` an ``X_time``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_ns") and isinstance(value, int):
                twin = "time" if key == "ts_ns" else key[: -len("_ns")] + "_time"
                if not isinstance(node.get(twin), str):
                    yield f"{where}.{key}"
            yield from _ns_keys_without_iso_time(value, f"{where}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _ns_keys_without_iso_time(item, f"{where}[]")


FAILING_STRATEGY = """
from ec_core.strategy import OpStrategy
from ec_core.strategy.loader import StrategyPlan


class Bad(OpStrategy):
    def generate(self, ctx, symbol):
        raise KeyError(symbol)


def strategy(info):
    return StrategyPlan([Bad(symbols=["CLE"])], max_consecutive_failures=3)
"""


def test_run_shows_a_failing_strategy_once_disables_it_and_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(FAILING_STRATEGY, encoding="utf-8")
    code, output = run_until(path, factory="strategy", until="ec run: generate error")
    assert code == 3, output
    shown = [line for line in output.splitlines() if line.startswith("ec run: generate error")]
    assert len(shown) == 1
    assert "in Bad at bad.py:8" in shown[0]
    assert "KeyError: 'CLE'" in shown[0]
    assert " errors" in summary_of(output)  # counted (how many depends on when SIGINT lands)
