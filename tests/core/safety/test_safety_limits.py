"""The limits file: typed parsing with errors naming the key, resolution with aliases and
wildcards (default deny, layering), and hot reload that keeps the last good limits."""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import ConfigError
from ec_core.safety import Limits, LimitsFile, PriceRounding, load_limits
from safety_support import LIMITS_TOML, NOW_NS

MS = 1_000_000


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[accounts."12"]\nmax_open_orders = 0\n', "accounts.12.max_open_orders"),
        ('[accounts."12"]\norders_per_second = "many"\n', "accounts.12.orders_per_second"),
        ('[accounts."12"]\nmax_opn_orders = 3\n', "accounts.12.max_opn_orders"),
        ("[instruments.CL]\nmax_order_qty = 1.5\n", "instruments.CL.max_order_qty"),
        ('[instruments."CLE*"]\nprice_band_pct = -1\n', 'instruments."CLE*"'),
        ("[instruments.CL]\nprice_band_ticks = 3\nprice_band_pct = 1\n", "instruments.CL"),
        ('[instruments.CL]\nprice_rounding = "SIDEWAYS"\n', "instruments.CL.price_rounding"),
        (
            '[accounts."1".instruments.CL]\nmax_position = -1\n',
            "accounts.1.instruments.CL.max_position",
        ),
        ('[accounts."1"]\ndaily_loss_reduce_at = 10\ndaily_loss_halt_at = 5\n', "accounts.1"),
        ("[defaults]\nmax_order_notional = 0\n", "defaults"),
        ("version = 2\n", "version"),
        ("instruments = 3\n", "instruments"),
        ("[aliases]\nCL = []\n", "aliases.CL"),
        ("[limits]\n", "limits"),
        ('[kill_switch]\non_impossible_fill = "PANIC"\n', "kill_switch.on_impossible_fill"),
        ("[kill_switch]\non_reload = 1\n", "kill_switch.on_reload"),
    ],
)
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Limits.from_toml(text)
    assert info.value.path == (key or None)
    assert str(info.value).startswith(f"{key}: " if key else "")


def test_not_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text("[accounts\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_limits(path)
    with pytest.raises(ConfigError, match="not found"):
        load_limits(tmp_path / "missing.toml")


def test_file_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text("[instruments.CL]\nmax_order_qty = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_limits(path)
    assert info.value.path == str(path)
    assert "instruments.CL.max_order_qty" in str(info.value)


def test_decimals_stay_exact() -> None:
    limits = Limits.from_toml('[instruments."*"]\nprice_band_pct = 0.1\n[accounts."*"]\n')
    assert limits.resolve("A", "X").price_band_pct == Decimal("0.1")


def test_default_deny_and_aliases() -> None:
    limits = Limits.from_toml(LIMITS_TOML)
    cl = limits.resolve("ACC1", "F.US.CLEZ23")
    assert cl.allowed
    assert cl.matched == ("CL",)
    es = limits.resolve("ACC1", "F.US.ESZ23")
    assert es.allowed  # second pattern of the ES alias
    gold = limits.resolve("ACC1", "F.US.GCEZ23")
    assert not gold.allowed
    assert gold.matched == ()


def test_layering_from_least_to_most_specific() -> None:
    limits = Limits.from_toml(
        """
        [aliases]
        CL = "F.US.CLE*"
        [defaults]
        max_order_qty = 50
        max_position = 100
        price_band_ticks = 10
        [instruments."F.US.*"]
        max_position = 40
        [instruments.CL]
        max_position = 20
        price_band_pct = 1.5
        [instruments."F.US.CLEZ23"]
        max_order_qty = 7
        [accounts."*"]
        orders_per_second = 10
        max_open_orders = 50
        [accounts."ACC*"]
        orders_per_second = 5
        [accounts."ACC1"]
        daily_loss_halt_at = 100
        [accounts."ACC1".instruments.CL]
        max_position = 3
        price_rounding = "PASSIVE"
        """
    )
    r = limits.resolve("ACC1", "F.US.CLEZ23")
    assert r.matched == ("F.US.*", "CL", "F.US.CLEZ23", "accounts.ACC1.CL")
    assert r.max_order_qty == 7
    assert r.max_position == 3
    assert r.price_band_pct == Decimal("1.5")
    assert r.price_band_ticks is None  # a band setting replaces the other kind
    assert r.price_rounding is PriceRounding.PASSIVE
    assert r.account.orders_per_second == 5
    assert r.account.max_open_orders == 50
    assert r.account.daily_loss_halt_at == Decimal(100)
    other = limits.resolve("ACC2", "F.US.CLEZ23")
    assert other.max_position == 20
    assert other.account.daily_loss_halt_at is None
    far = limits.resolve("XYZ", "F.US.GCEZ23")
    assert far.allowed
    assert far.max_position == 40
    assert far.price_band_ticks == 10
    assert far.account.orders_per_second == 10
    assert limits.resolve("ACC1", "F.US.CLEZ23") is r  # cached


def test_account_sections_can_allow_instruments_of_their_own() -> None:
    limits = Limits.from_toml('[accounts."*"]\n[accounts.VIP.instruments."F.US.GC*"]\n')
    assert limits.resolve("VIP", "F.US.GCEZ23").allowed
    assert not limits.resolve("OTHER", "F.US.GCEZ23").allowed


# -- hot reload ------------------------------------------------------------------------


def _write(path: Path, text: str, *, bump_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    # filesystems with coarse mtimes: make the change visible without sleeping
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))


def test_hot_reload_polls_by_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    _write(path, '[instruments."*"]\nmax_order_qty = 5\n[accounts."*"]\n', bump_ns=0)
    clock = ManualClock(NOW_NS)
    source = LimitsFile(path, clock=clock, poll_interval_ms=500)
    assert source.current(clock.now_ns()).resolve("A", "X").max_order_qty == 5
    _write(path, '[instruments."*"]\nmax_order_qty = 9\n[accounts."*"]\n', bump_ns=1_000_000)
    clock.advance(499 * MS)
    assert source.current(clock.now_ns()).resolve("A", "X").max_order_qty == 5  # not due yet
    clock.advance(1 * MS)
    assert source.current(clock.now_ns()).resolve("A", "X").max_order_qty == 9
    assert source.reloads == 1
    assert source.error is None


def test_bad_file_keeps_the_last_good_limits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "limits.toml"
    _write(path, '[instruments."*"]\nmax_order_qty = 5\n[accounts."*"]\n', bump_ns=0)
    clock = ManualClock(NOW_NS)
    source = LimitsFile(path, clock=clock, poll_interval_ms=0)
    good = source.current(clock.now_ns())
    _write(path, '[instruments."*"]\nmax_order_qty = 0\n', bump_ns=1_000_000)
    with caplog.at_level(logging.ERROR, logger="ec_core.safety.limits_source"):
        assert source.current(clock.now_ns()) is good
        assert source.current(clock.now_ns()) is good  # the same bad version: reported once
    assert source.reload_errors == 1
    assert source.error is not None
    assert "max_order_qty" in str(source.error)
    assert len([r for r in caplog.records if "keeping the last good" in r.getMessage()]) == 1
    path.unlink()
    assert source.current(clock.now_ns()) is good
    assert source.reload_errors == 2
    _write(path, '[instruments."*"]\nmax_order_qty = 8\n[accounts."*"]\n', bump_ns=2_000_000)
    assert source.current(clock.now_ns()).resolve("A", "X").max_order_qty == 8
    assert source.error is None


def test_first_load_must_succeed(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text("[instruments.X]\nmax_order_qty = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        LimitsFile(path, clock=ManualClock(NOW_NS))
