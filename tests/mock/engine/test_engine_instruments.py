"""Built-in instruments and user TOML instrument files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import ConfigError
from ec_mock.engine import Exchange
from ec_mock.instruments import (
    builtin_instruments,
    builtin_specs,
    load_instrument_specs,
    load_instruments,
)


def test_builtin_contracts_have_their_real_ticks_and_multipliers() -> None:
    table = {i.symbol: i for i in builtin_instruments()}
    assert (table["CLE"].tick_size, table["CLE"].multiplier) == (Decimal("0.01"), Decimal(1000))
    assert (table["EP"].tick_size, table["EP"].multiplier) == (Decimal("0.25"), Decimal(50))
    assert (table["GCE"].tick_size, table["GCE"].multiplier) == (Decimal("0.10"), Decimal(100))
    assert table["TYA"].tick_size == Decimal(1) / 64
    assert table["TYA"].tick_value == Decimal("15.625")
    assert table["EP"].tick_value == Decimal("12.50")
    assert all(i.trading_hours is not None for i in table.values())
    specs = builtin_specs()
    assert all(s.margin and s.reference_price for s in specs)
    for spec in specs:
        assert spec.reference_price is not None
        assert spec.instrument.is_on_grid(spec.reference_price)


def test_exchange_uses_the_builtin_margins() -> None:
    ex = Exchange(instruments=builtin_instruments(), clock=ManualClock())
    assert ex.margin("EP") == Decimal(12500)
    assert ex.margin("TYA") == Decimal(2200)


def test_user_toml_instruments(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        """
[[instrument]]
symbol = "MES"
tick_size = "0.25"
multiplier = 5
margin = "1500"
trading_hours = { open = "17:00", close = "16:00" }
""",
        encoding="utf-8",
    )
    (instrument,) = load_instruments(path)
    assert instrument.tick_value == Decimal("1.25")
    assert instrument.trading_hours is not None
    assert instrument.trading_hours.timezone == "America/Chicago"
    assert load_instrument_specs(path)[0].margin == Decimal(1500)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('symbol = "X"\ntick_size = "abc"', "instrument[0].tick_size"),
        ('symbol = "X"\ntick_size = "-1"', "instrument[0].tick_size"),
        ('symbol = "X"', "instrument[0].tick_size"),
        ('symbol = "X"\ntick_size = "1"\ntick = 2', "instrument[0].tick"),
        ('symbol = "X"\ntick_size = "1"\nmax_order_qty = 0', "instrument[0].max_order_qty"),
        (
            'symbol = "X"\ntick_size = "1"\ntrading_hours = { open = "25:00", close = "16:00" }',
            "instrument[0].trading_hours.open",
        ),
        # one lowest price: a top-level min_price beside rules.min_price must be it
        (
            'symbol = "X"\ntick_size = "1"\nmin_price = "2"\nrules = { min_price = "1" }',
            "instrument[0].min_price",
        ),
        (
            'symbol = "X"\ntick_size = "1"\nmin_price = "abc"\nrules = { min_price = "1" }',
            "instrument[0].min_price",
        ),
        (
            'symbol = "X"\ntick_size = "1"\nmin_price = true\nrules = { min_price = "1" }',
            "instrument[0].min_price",
        ),
    ],
)
def test_bad_instrument_files_name_the_key(tmp_path: Path, body: str, path: str) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(f"[[instrument]]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_instruments(file)
    assert info.value.path == path


def test_duplicate_symbols_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "dup.toml"
    file.write_text(
        '[[instrument]]\nsymbol = "X"\ntick_size = "1"\n' * 2,
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_instruments(file)
    assert info.value.path == "instrument[1].symbol"
