"""The shipped sample limits file: printed by ``ec limits sample``, valid, default deny,
and enough to trade once its account is set; ``ec limits check`` names a bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from ec_core.cli.limits_cmd import limits_command, sample_limits_text
from ec_core.errors import ConfigError, OrderDeniedError
from ec_core.safety.limits import Limits, load_limits, parse_limits
from ec_core.settings import Settings

import ec_core
from ec_core import NewOrder, OrderState, OrderType, Side


def _sample_for(tmp_path: Path, account: str) -> Path:
    path = tmp_path / "limits.toml"
    path.write_text(sample_limits_text().replace('"CHANGE-ME"', f'"{account}"'), encoding="utf-8")
    return path


def test_ec_limits_sample_prints_the_shipped_file_which_loads(tmp_path: Path) -> None:
    result = CliRunner().invoke(limits_command, ["sample"])
    assert result.exit_code == 0, result.output
    assert result.output == sample_limits_text()
    printed = tmp_path / "sample.toml"
    printed.write_text(result.output, encoding="utf-8")
    assert "ES" in load_limits(printed).instruments


def test_the_sample_is_default_deny_until_edited(tmp_path: Path) -> None:
    limits = Limits(load_limits(_sample_for(tmp_path, "ACC-1")))
    assert limits.resolve("ACC-1", "EPZ5").allowed
    assert not limits.resolve("ACC-1", "CLZ5").allowed  # an instrument it does not list
    assert not limits.account("SOMEONE-ELSE").allowed  # an account it does not list


def test_sample_out_writes_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "limits.toml"
    first = CliRunner().invoke(limits_command, ["sample", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert out.read_text(encoding="utf-8") == sample_limits_text()
    assert 'limits_file = "' in first.output
    out.write_text("# mine\n", encoding="utf-8")
    second = CliRunner().invoke(limits_command, ["sample", "--out", str(out)])
    assert second.exit_code != 0
    assert "exists" in second.output
    assert out.read_text(encoding="utf-8") == "# mine\n"


def test_check_accepts_the_sample_and_names_the_key_of_a_bad_file(tmp_path: Path) -> None:
    good = CliRunner().invoke(limits_command, ["check", str(_sample_for(tmp_path, "ACC-1"))])
    assert good.exit_code == 0, good.output
    assert "accounts allowed: ACC-1" in good.output
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[defaults]\nmax_order_qty = "two"\n', encoding="utf-8")
    result = CliRunner().invoke(limits_command, ["check", str(bad)])
    assert result.exit_code == 1
    assert "max_order_qty" in result.output


@pytest.mark.anyio
async def test_the_edited_sample_trades_inside_its_limits_and_denies_beyond(
    tmp_path: Path,
) -> None:
    settings = Settings(vendor="mock", limits_file=str(_sample_for(tmp_path, "MOCK-1")))
    buy = NewOrder(account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.MKT)
    async with ec_core.connect(settings) as trader:
        sent = await trader.execute(buy)
        assert sent is not None
        order = await trader.wait_final(sent)
        assert order.state is OrderState.FILLED
        with pytest.raises(OrderDeniedError) as denied:
            await trader.execute(
                NewOrder(
                    account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=3, order_type=OrderType.MKT
                )
            )
        assert denied.value.codes == ("QTY_ABOVE_MAX",)  # the sample's max_order_qty = 2


@pytest.mark.anyio
async def test_the_missing_limits_error_names_the_sample_command() -> None:
    with pytest.raises(ConfigError) as caught:
        async with ec_core.connect("cqg"):
            pytest.fail("connected without limits")
    assert "ec limits sample" in str(caught.value)


def test_check_refuses_the_sample_until_its_account_is_edited(tmp_path: Path) -> None:
    # The sample as printed trades no real account: "ok" would send a new user on to a
    # connect whose every order is denied ACCOUNT_UNKNOWN.
    unedited = tmp_path / "limits.toml"
    unedited.write_text(sample_limits_text(), encoding="utf-8")
    result = CliRunner().invoke(limits_command, ["check", str(unedited)])
    assert result.exit_code == 1
    assert 'accounts."CHANGE-ME"' in result.output
    assert "your account id" in result.output
    assert "ok" not in result.output.split()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("version = 1\n[acounts.A]\n", "acounts: unknown key (known: accounts, aliases,"),
        (
            "version = 1\n[accounts.A]\n[instruments.EP]\nmax_ordr_qty = 3\n",
            "instruments.EP.max_ordr_qty: unknown key (known: allowed,",
        ),
        (
            "version = 1\n[accounts.A]\nmax_open_ordrs = 3\n",
            "accounts.A.max_open_ordrs: unknown key (known: ",
        ),
        (
            "version = 1\n[kill_switch]\non_reload = 1\n",
            "kill_switch.on_reload: unknown key (known: ",
        ),
    ],
)
def test_a_misspelt_limits_key_is_named_with_the_keys_there(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_limits(tomllib.loads(text))
    assert str(caught.value).startswith(said)
    assert "Object contains" not in str(caught.value)


def test_a_bad_limits_value_names_its_key_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_limits({"version": 1, "instruments": {"EP": {"max_order_qty": -5}}})
    assert str(caught.value) == "instruments.EP.max_order_qty: Expected `int` >= 1"
