"""The ``[vendors.mock]`` settings table, parsed and checked.

::

    [vendors.mock]
    seed = 7                 # same seed, same market, same fills
    clock = "simulated"      # or "wall": pace the market in real time
    start = 2024-01-10T15:00:00Z   # with "wall": as of this instant, at wall pace
    step_ms = 100            # market time per simulator step
    market = true            # background liquidity and trades
    account_id = "MOCK-1"    # the account this logon trades (more in `accounts`)
    balance = "1000000"
    instruments = "my_contracts.toml"   # default: the built-in set
    commission_per_contract = "2.05"    # charged on every fill, per contract
    commission_per_order = "0.50"       # charged once per order, on its first fill

    [vendors.mock.replay]    # how `ec replay` fills orders from recorded data
    slippage_ticks = 1       # see ec_mock.market.recorded_model for every key

In process, two more keys take objects instead of TOML values: ``venue`` (a
:class:`~ec_mock.vendor.venue.MockVenue` to share between sessions) and
``faults`` (a :class:`~ec_mock.faults.FaultPlan`, or a table of its fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, final

import msgspec
from ec_core.errors import ConfigError
from ec_core.safety import datetime_ns
from ec_core.settings import validation_text

from ec_mock.market.recorded_model import RecordedFillModel
from ec_mock.vendor.channels import DEFAULT_MARKET_BUFFER, DEFAULT_TRADE_BUFFER
from ec_mock.vendor.venue import DEFAULT_BALANCE

__all__ = ["DEFAULT_ACCOUNT", "MockSettings", "parse_settings"]

DEFAULT_ACCOUNT = "MOCK-1"
_OBJECT_KEYS = ("venue", "faults")


@final
class MockSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    seed: int = 0
    clock: Literal["simulated", "wall"] = "simulated"
    # with clock = "wall": the venue's time starts here (a zone is required) and runs at
    # wall pace, so it trades in its session whatever the hour (tests, demos off-hours)
    start: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    step_ms: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    market: bool = True
    account_id: str = DEFAULT_ACCOUNT
    accounts: tuple[str, ...] = ()
    balance: Decimal = DEFAULT_BALANCE
    commission_per_contract: Decimal = Decimal(0)
    commission_per_order: Decimal = Decimal(0)
    replay: RecordedFillModel = RecordedFillModel()
    instruments: str | None = None
    market_buffer: Annotated[int, msgspec.Meta(ge=1)] = DEFAULT_MARKET_BUFFER
    trade_buffer: Annotated[int, msgspec.Meta(ge=1)] = DEFAULT_TRADE_BUFFER
    # Accepted so a settings file written for a real vendor also opens the mock; unused.
    user: str = ""
    password: Any = None

    @property
    def step_ns(self) -> int:
        return round(self.step_ms * 1_000_000)

    @property
    def start_ns(self) -> int | None:
        """``start`` in nanoseconds since the epoch (``None``: the wall clock's own time)."""
        if self.start is None:
            return None
        return datetime_ns(self.start)

    @property
    def all_accounts(self) -> tuple[str, ...]:
        return (self.account_id, *(a for a in self.accounts if a != self.account_id))


def parse_settings(settings: Mapping[str, Any]) -> tuple[MockSettings, dict[str, Any]]:
    """Split ``settings`` into checked values and the in-process objects (``venue``, ``faults``).

    Raises :class:`~ec_core.errors.ConfigError` naming the offending key.
    """
    plain = {k: v for k, v in settings.items() if k not in _OBJECT_KEYS}
    objects = {k: settings[k] for k in _OBJECT_KEYS if settings.get(k) is not None}
    try:
        parsed = msgspec.convert(plain, MockSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(validation_text(exc, MockSettings), path=_path_of(exc)) from exc
    if parsed.start is not None and parsed.clock != "wall":
        raise ConfigError(
            'is for clock = "wall" (a simulated clock starts at its own instant)',
            path="vendors.mock.start",
        )
    if parsed.balance <= 0:
        raise ConfigError(f"must be > 0, got {parsed.balance}", path="vendors.mock.balance")
    for key in ("commission_per_contract", "commission_per_order"):
        if getattr(parsed, key) < 0:
            raise ConfigError(
                f"must be >= 0, got {getattr(parsed, key)}", path=f"vendors.mock.{key}"
            )
    return parsed, objects


def _path_of(exc: msgspec.ValidationError) -> str:
    message = str(exc)
    marker = "at `$."
    if marker in message:
        return "vendors.mock." + message.split(marker, 1)[1].split("`", 1)[0]
    if "unknown field" in message:
        return "vendors.mock." + message.split("`", 2)[1]
    return "vendors.mock"
