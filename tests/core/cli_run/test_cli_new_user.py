"""The mistakes a new user makes with ``ec``: each ends in one ``Error:`` line naming what to
do and a non-zero exit, never a traceback, a hang or a file lost.

In-process through click's runner where a command fails fast; real subprocesses for Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from cli_support import EC, TIMEOUT
from click.testing import CliRunner, Result
from ec_core.cli.main import build_cli
from ec_core.plugins import PluginHost
from mock_serve import serve_subprocess
from reaping import reap, watchdog

HEADER = "ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"
T0 = 1_704_898_800_000_000_000 + 1_000_000_000

#: A strategy that says on stdout when the replay has begun, then takes its time per tick.
SLOW = """
import time
from ec_core.strategy import OpStrategy


class Slow(OpStrategy):
    def __init__(self):
        super().__init__(symbols=["CLE"])
        self.said = False

    def generate(self, ctx, symbol):
        if not self.said:
            self.said = True
            print("strategy: replaying", flush=True)
        time.sleep(0.01)
        return None


def strategy(info):
    return Slow()
"""


#: A strategy stuck in its own code once the replay has begun (a loop that never ends).
STUCK = SLOW.replace("time.sleep(0.01)", "while True:\n            time.sleep(0.01)")


def ticks(path: Path, n: int = 40) -> Path:
    rows = [HEADER]
    rows += [f"{T0 + i * 100_000_000},CLE,quote,,,70.00,5,70.01,5," for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def ec(*args: str) -> Result:
    return CliRunner().invoke(build_cli(PluginHost.load()), list(args))


def one_error_line(result: Result) -> str:
    """The result's single ``Error:`` line; no traceback anywhere."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    return line


# -- ec data convert ---------------------------------------------------------------------------


def test_convert_onto_its_own_source_is_refused_and_the_source_kept(tmp_path: Path) -> None:
    source = ticks(tmp_path / "cle.csv")
    before = source.read_bytes()
    line = one_error_line(ec("data", "convert", str(source), str(source)))
    assert "same file" in line
    assert source.read_bytes() == before


def test_convert_from_the_name_target_is_written_under_is_refused_and_the_source_kept(
    tmp_path: Path,
) -> None:
    source = ticks(tmp_path / ".cle.partial.csv")  # what `convert ... cle.csv` writes first
    before = source.read_bytes()
    line = one_error_line(ec("data", "convert", str(source), str(tmp_path / "cle.csv")))
    assert "cle.partial.csv" in line
    assert source.read_bytes() == before
    assert not (tmp_path / "cle.csv").exists()


def test_convert_to_an_unknown_suffix_is_refused_naming_the_formats(tmp_path: Path) -> None:
    source = ticks(tmp_path / "cle.csv")
    line = one_error_line(ec("data", "convert", str(source), str(tmp_path / "cle.xlsx")))
    assert "'.xlsx'" in line
    assert ".csv" in line
    assert ".parquet" in line
    assert ".arrow" in line
    assert not (tmp_path / "cle.xlsx").exists()


def test_convert_into_a_missing_folder_names_the_path(tmp_path: Path) -> None:
    source = ticks(tmp_path / "cle.csv")
    line = one_error_line(ec("data", "convert", str(source), str(tmp_path / "no" / "cle.csv")))
    assert "cle.csv" in line
    assert "No such file or directory" in line


def test_a_source_the_system_refuses_is_named_not_the_target(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    source = tmp_path / "afile" / "cle.csv"  # under a file: the system refuses to open it
    line = one_error_line(ec("data", "convert", str(source), str(tmp_path / "out.csv")))
    assert line.startswith(f"Error: {source}: cannot read it: "), line
    assert not (tmp_path / "out.csv").exists()


def test_a_convert_that_fails_on_a_row_leaves_no_half_written_target(tmp_path: Path) -> None:
    source = ticks(tmp_path / "cle.csv")
    with source.open("a", encoding="utf-8") as out:
        out.write(f"{T0 + 10**12},CLE,quote,,,seventy,5,70.01,5,\n")
    target = tmp_path / "out.csv"
    line = one_error_line(ec("data", "convert", str(source), str(target)))
    assert "cle.csv:42" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cle.csv"]


# -- ec replay --out ---------------------------------------------------------------------------


def test_replay_into_an_unwritable_out_is_refused_before_the_replay(tmp_path: Path) -> None:
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW, encoding="utf-8")
    source = ticks(tmp_path / "cle.csv")
    result = ec("replay", f"{strategy}:strategy", "--ticks", str(source), "--out", f"{source}/out")
    line = one_error_line(result)
    assert line.startswith("Error: --out:")
    assert "cle.csv/out" in line
    assert "strategy: replaying" not in result.output  # said before a replay is spent


def test_a_tick_file_with_only_its_header_is_an_error_not_an_empty_report(tmp_path: Path) -> None:
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW, encoding="utf-8")
    source = ticks(tmp_path / "cle.csv", n=0)
    out = str(tmp_path / "out")
    line = one_error_line(
        ec("replay", f"{strategy}:strategy", "--ticks", str(source), "--out", out)
    )
    assert "cle.csv: no tick to replay: the file holds only its header" in line
    line = one_error_line(ec("data", "check", str(source)))
    assert "cle.csv: no rows: the file holds only its header" in line


def test_a_seed_of_the_wrong_type_in_the_settings_is_named_not_dropped(tmp_path: Path) -> None:
    # ec replay overwrote [vendors.mock] seed with --seed's default 0 unread: "x" passed
    # (ec run refused it), and a seed = 7 was not the seed the replay used.
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW, encoding="utf-8")
    config = tmp_path / "ec.toml"
    config.write_text('[vendors.mock]\nseed = "x"\n', encoding="utf-8")
    source = ticks(tmp_path / "cle.csv")
    args = ["replay", f"{strategy}:strategy", "--ticks", str(source), "--config", str(config)]
    line = one_error_line(ec(*args, "--out", str(tmp_path / "out")))
    assert "vendors.mock.seed: must be an int" in line


# -- ec kill-switch ----------------------------------------------------------------------------


def test_kill_switch_on_a_limits_file_that_does_not_exist_says_the_path_is_wrong(
    tmp_path: Path,
) -> None:
    typo = tmp_path / "limts.toml"
    line = one_error_line(ec("kill-switch", "resume", "--limits", str(typo)))
    assert "limts.toml: limits file not found" in line
    assert "check the path" in line
    assert list(tmp_path.iterdir()) == []  # nothing written for a switch nobody reads
    result = ec("kill-switch", "halt", "--limits", str(typo))
    line = one_error_line(result)  # a halt is never refused, but the operator is told
    assert "HALTED" in result.output
    assert "limts.toml: limits file not found" in line


# -- Ctrl-C ------------------------------------------------------------------------------------


def _as_in_a_terminal() -> None:
    # A shell starts a background job (this suite under `... &`) with SIGINT ignored, and
    # its children inherit that: a command in a terminal's foreground has it at default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(args: list[str], cwd: Path, ready: str) -> subprocess.CompletedProcess[str]:
    """Run ``ec ARGS`` in its own process group as a terminal's foreground job, wait for
    ``ready`` on stdout, then press Ctrl-C as a terminal does (SIGINT to the whole group)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("EC_SETTINGS", None)
    process = subprocess.Popen(
        [*EC, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, preexec_fn=_as_in_a_terminal,
    )  # fmt: skip
    guard = watchdog(process, TIMEOUT, group=True)
    try:
        assert process.stdout is not None
        seen: list[str] = []
        while not seen or ready not in seen[-1]:
            line = process.stdout.readline()
            assert line, "".join(seen) + process.communicate(timeout=TIMEOUT)[1]
            seen.append(line)
        guard.cancel()
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        guard.cancel()
        reap(process, group=True)  # a sweep's workers too
    return subprocess.CompletedProcess(args, process.returncode, "".join(seen) + out, err)


def test_ctrl_c_in_a_replay_stops_it_at_once_exits_130_with_one_line(tmp_path: Path) -> None:
    # The replay loop never awaits: asyncio's Ctrl-C (cancel the main task) waited for the
    # whole replay to end, and forever for a strategy stuck in its own code.
    (tmp_path / "stuck.py").write_text(STUCK, encoding="utf-8")
    ticks(tmp_path / "cle.csv", n=40)
    done = interrupt(
        ["replay", "stuck.py:strategy", "--ticks", "cle.csv"], tmp_path, "strategy: replaying"
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "ec: interrupted (Ctrl-C)"


def test_ctrl_c_in_a_sweep_stops_its_workers_and_exits_130(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW, encoding="utf-8")
    ticks(tmp_path / "cle.csv", n=3_000)
    done = interrupt(
        ["replay", "slow.py:strategy", "--ticks", "cle.csv", "--param", "x=1,2", "--jobs", "2"],
        tmp_path,
        "strategy: replaying",
    )  # communicate() returning at all says no worker kept the pipes open
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "ec: interrupted (Ctrl-C)" in done.stderr


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (["--bar-length", "5m"], "--bar-length"),  # for --bars
        (["--rank", "sharpe"], "--rank"),  # for a sweep
        (["--jobs", "4"], "--jobs"),
    ],
)
def test_an_option_that_would_do_nothing_here_is_a_usage_error(
    tmp_path: Path, given: list[str], named: str
) -> None:
    # Each was dropped silently: a user who meant it got a run without it.
    source = ticks(tmp_path / "cle.csv")
    out = tmp_path / "out"
    result = ec("replay", "x.py:strategy", "--ticks", str(source), "--out", str(out), *given)
    assert result.exit_code == 2, result.output
    assert f"{named} " in result.output
    assert "has no effect" in result.output
    assert not out.exists()  # said before anything is done


@pytest.mark.parametrize("account", ["", " ", "\t", " MOCK-1", "MOCK-1 ", "MO\nCK"])
@pytest.mark.parametrize("command", ["replay", "run", "mock serve"])
def test_a_blank_or_padded_account_is_a_usage_error(
    tmp_path: Path, account: str, command: str
) -> None:
    # It was accepted: a blank id fell back to the default, a padded one named an account
    # no order could match (the core denies a client order id like it the same way).
    # ec replay checked it alone; ec run and ec mock serve take accounts too: one rule.
    source = ticks(tmp_path / "cle.csv")
    out = tmp_path / "out"
    args = {
        "replay": ["replay", "x.py:strategy", "--ticks", str(source), "--out", str(out)],
        "run": ["run", "x.py:strategy", "--vendor", "mock"],
        "mock serve": ["mock", "serve", "--port", "0", "--account", "MOCK-1"],
    }[command]
    result = ec(*args, "--account", account)
    assert result.exit_code == 2, result.output
    assert "'--account'" in result.output
    assert "printable text without leading or trailing spaces" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # said before anything is done


IDLE = """
from ec_core.strategy import OpStrategy


class Idle(OpStrategy):
    def __init__(self):
        super().__init__(symbols=["EP"])

    def generate(self, ctx, symbol):
        return None


def strategy(info):
    return Idle()
"""


def test_ec_run_on_an_account_the_logon_does_not_trade_is_one_line_naming_the_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real venue (the CQG dialect of ec mock serve) knows its accounts; the mock vendor
    # opens whatever it is told, so only a real logon can say an account is unknown.
    (tmp_path / "idle.py").write_text(IDLE, encoding="utf-8")
    (tmp_path / "limits.toml").write_text(
        'version = 1\n[defaults]\nmax_order_qty = 1\n[instruments.EP]\n[accounts."1001"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("EC_TEST_RUN_PW", "pw-run")
    monkeypatch.chdir(tmp_path)
    with serve_subprocess("--dialect", "cqg", "--user", "u", "--account", "S-1", "--no-market",
                          password="pw-run") as (_lines, url):  # fmt: skip
        (tmp_path / "settings.toml").write_text(
            f'vendor = "cqg"\nlimits_file = "limits.toml"\n[vendors.cqg]\nurl = "{url}"\n'
            'user = "u"\npassword_env = "EC_TEST_RUN_PW"\n',
            encoding="utf-8",
        )
        result = ec("run", "idle.py:strategy", "--config", "settings.toml", "--account", "NOPE")
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: account_id: ACCOUNT_UNKNOWN: account 'NOPE'")
    assert "(known: 1001)" in line
    assert "--account" in line


@pytest.mark.parametrize(
    ("settings", "named", "known"),
    [
        ('vendr = "mock"\n', "vendr", "vendor"),
        ("[vendors.mock]\nsed = 1\n", "vendors.mock.sed", "seed"),
    ],
)
def test_a_misspelt_settings_key_is_one_line_listing_the_keys_there_are(
    tmp_path: Path, settings: str, named: str, known: str
) -> None:
    # It said msgspec's "Object contains unknown field `vendr`": right, but not what to write.
    (tmp_path / "idle.py").write_text(IDLE, encoding="utf-8")
    (tmp_path / "settings.toml").write_text(settings, encoding="utf-8")
    result = ec("run", str(tmp_path / "idle.py") + ":strategy", "--config",
                str(tmp_path / "settings.toml"))  # fmt: skip
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert f"{named}: unknown key (known: " in line
    assert f" {known}," in line or f" {known})" in line


def test_bar_length_on_a_tick_file_is_a_usage_error(tmp_path: Path) -> None:
    # ec data check dropped it silently on ticks: a user who meant bars got a tick summary.
    source = ticks(tmp_path / "cle.csv")
    result = ec("data", "check", str(source), "--bar-length", "5m")
    assert result.exit_code == 2, result.output
    assert "--bar-length has no effect here" in result.output
    assert "OHLCV bar file" in result.output
    assert ec("data", "check", str(source)).exit_code == 0  # the same file without it


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_a_sweep_needs_at_least_one_process(tmp_path: Path, jobs: str) -> None:
    result = ec("replay", "x.py:strategy", "--ticks", "t.csv", "--param", "a=1", "--jobs", jobs)
    assert result.exit_code == 2
    assert "--jobs" in result.output


@pytest.mark.parametrize(
    ("command", "settings", "named", "choices"),
    [
        ("replay", '[vendors.mock.replay]\nmarket = "wlk"\n', "vendors.mock.replay.market",
         "touch, walk"),
        ("run", '[vendors.mock]\nclock = "wal"\n', "vendors.mock.clock", "simulated, wall"),
    ],
)  # fmt: skip
def test_a_misspelt_settings_choice_lists_the_values_there_are(
    tmp_path: Path, command: str, settings: str, named: str, choices: str
) -> None:
    # It said msgspec's "Invalid enum value 'wlk' - at `$.replay.market`": not what to write.
    (tmp_path / "idle.py").write_text(IDLE, encoding="utf-8")
    (tmp_path / "settings.toml").write_text(settings, encoding="utf-8")
    tick = "1704898801000000000,EP,quote,4500.00,1,4500.25,1"
    (tmp_path / "t.csv").write_text(
        f"ts_ns,symbol,kind,bid,bid_size,ask,ask_size\n{tick}\n", "utf-8"
    )
    replay = ["--ticks", str(tmp_path / "t.csv"), "--out", str(tmp_path / "out")]
    ticks = replay if command == "replay" else []
    result = ec(command, str(tmp_path / "idle.py") + ":strategy", *ticks, "--config",
                str(tmp_path / "settings.toml"))  # fmt: skip
    line = one_error_line(result)
    assert f"{named}: " in line
    assert f"(one of: {choices})" in line
    assert "- at `$" not in line


@pytest.mark.parametrize("content", ["", "\n\n"])
@pytest.mark.parametrize("command", ["data check", "replay", "replay --bars"])
def test_an_empty_tick_file_is_said_to_be_empty(tmp_path: Path, content: str, command: str) -> None:
    # It said "empty.csv:1: missing column(s) ['kind', 'symbol', 'ts_ns']" (or, to --bars,
    # that the file holds ticks), as if a header with other names were there.
    (tmp_path / "idle.py").write_text(IDLE, encoding="utf-8")
    (tmp_path / "empty.csv").write_text(content, encoding="utf-8")
    empty = str(tmp_path / "empty.csv")
    out = ["--out", str(tmp_path / "out")]
    args = {
        "data check": ["data", "check", empty],
        "replay": ["replay", str(tmp_path / "idle.py"), "--ticks", empty, *out],
        "replay --bars": ["replay", str(tmp_path / "idle.py"), "--bars", empty, *out],
    }[command]
    line = one_error_line(ec(*args))
    assert line.startswith("Error: empty.csv:1: the file is empty: ")
    assert "header line" in line


def test_mock_serves_help_names_the_dialects_to_choose_from() -> None:
    # `--dialect TEXT  Wire dialect to serve.` left a new user guessing what to write.
    result = ec("mock", "serve", "--help")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "cqg" in said
    assert "json" in said


#: A live strategy stuck in its own code: says so on stdout, then never returns to the loop.
STUCK_LIVE = """
from ec_core.strategy import OpStrategy


class Stuck(OpStrategy):
    def __init__(self):
        super().__init__(symbols=["EP"])

    def generate(self, ctx, symbol):
        print("strategy: stuck", flush=True)
        while True:
            pass


def strategy(info):
    return Stuck()
"""


def test_ctrl_c_twice_stops_a_run_whose_strategy_never_returns(tmp_path: Path) -> None:
    # ec run's stop needs its event loop: with the strategy stuck, Ctrl-C and SIGTERM were
    # taken by no one and the run went on until SIGKILL.
    (tmp_path / "stuck.py").write_text(STUCK_LIVE, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("EC_SETTINGS", None)
    process = subprocess.Popen(
        [*EC, "run", "stuck.py:strategy", "--vendor", "mock", "--warmup", "none"], cwd=tmp_path,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_as_in_a_terminal,
    )  # fmt: skip
    # Unanswered, the signals leave the process running: a deadline ends it (and the test).
    guard = watchdog(process, TIMEOUT, group=True)
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        while "strategy: stuck" not in (line := process.stdout.readline()):
            assert line, process.communicate(timeout=TIMEOUT)[1]
        os.killpg(process.pid, signal.SIGINT)
        first = process.stderr.readline()  # said by the handler: the first press is taken
        assert first == "ec run: SIGINT: stopping (again: stop at once, where it is)\n"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        guard.cancel()
        reap(process, group=True)  # failed too: killed, waited for, its pipes closed
    assert process.returncode == 130, err
    assert re.search(r"stuck\.py:1[012] did not return", err), err  # a line of generate
    assert "working orders were NOT cancelled" in err
    assert "Traceback" not in err


def test_kill_switch_takes_the_settings_file_ec_run_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `ec run --config ec.toml` found the limits; `ec kill-switch halt --config ec.toml`
    # was "No such option" and, without it, "no limits file".
    monkeypatch.delenv("EC_SETTINGS", raising=False)
    monkeypatch.delenv("EC_LIMITS_FILE", raising=False)
    limits = tmp_path / "limits.toml"
    limits.write_text('version = 1\n[accounts."MOCK-1"]\n', encoding="utf-8")
    settings = tmp_path / "ec.toml"
    settings.write_text(f'limits_file = "{limits.as_posix()}"\n', encoding="utf-8")
    result = ec("kill-switch", "halt", "--config", str(settings), "--reason", "test")
    assert result.exit_code == 0, result.output
    assert "kill switch: HALTED" in result.output
    assert (tmp_path / "limits.killswitch.json").exists()
