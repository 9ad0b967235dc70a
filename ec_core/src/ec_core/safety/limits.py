"""The limits file: typed model, parsing with errors that name the key, and resolution.

A limits file is TOML (every setting is described in ``docs/reference/limits.md``)::

    [aliases]
    CL = "F.US.CLE*"                 # an alias names one or more symbol patterns

    [defaults]                       # instrument limits for every *allowed* instrument
    max_order_qty = 10
    price_band_ticks = 40

    [instruments.CL]                 # an alias, an exact symbol or a wildcard pattern
    max_position = 20

    [accounts."*"]                   # every account; "12*" or "123456" are more specific
    orders_per_second = 20
    daily_loss_halt_at = 5000

    [accounts."123456".instruments.CL]
    max_position = 5

Default deny: an account that matches no ``[accounts]`` key, or an instrument
that matches no ``[instruments]`` key (global or under its account), is denied.
Matching sections are layered from least to most specific, field by field, so a
specific section only needs the settings it changes.

Parsing happens once per file version; :meth:`Limits.resolve` answers the hot
path from a cache of precomputed :class:`ResolvedLimits` per account and symbol.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, final

import msgspec

from ec_core.errors import ConfigError
from ec_core.safety.kill_switch import KillSwitchState
from ec_core.settings import validation_key, validation_text

__all__ = [
    "AccountLimits",
    "AccountRules",
    "InstrumentLimits",
    "KillSwitchPolicy",
    "Limits",
    "LimitsConfig",
    "PriceRounding",
    "ResolvedLimits",
    "load_limits",
    "parse_limits",
]

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
_S = TypeVar("_S", bound=msgspec.Struct)


class PriceRounding(StrEnum):
    """What :meth:`PreTradeChecks.apply_rounding` does with an off-tick price.

    The checks themselves never round: an off-tick price that reaches them is denied.
    """

    REFUSE = "REFUSE"  # leave it; the check denies it (the default)
    NEAREST = "NEAREST"  # nearest tick, half away from zero
    DOWN = "DOWN"  # towards minus infinity
    UP = "UP"  # towards plus infinity
    PASSIVE = "PASSIVE"  # limit: buy down / sell up; stop: buy up / sell down


def _positive(section: msgspec.Struct, *names: str) -> None:
    for name in names:
        value = getattr(section, name)
        if value is not None and (not value.is_finite() or value <= 0):
            raise ValueError(f"{name} must be a positive number, got {value}")


class InstrumentLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of one instrument section (``[defaults]`` or ``[instruments.KEY]``).

    ``None`` means "not set here": a less specific section (or the built-in
    default) applies.
    """

    allowed: bool | None = None
    max_order_qty: PositiveInt | None = None
    max_position: NonNegativeInt | None = None
    max_order_notional: Decimal | None = None
    max_open_orders: PositiveInt | None = None
    price_band_ticks: PositiveInt | None = None
    price_band_pct: Decimal | None = None
    price_band_without_reference: Literal["deny", "allow"] | None = None
    band_requires_reference: bool | None = None  # its old name: true = deny, false = allow
    price_rounding: PriceRounding | None = None
    self_trade_prevention: bool | None = None

    def __post_init__(self) -> None:
        _positive(self, "max_order_notional", "price_band_pct")
        if self.price_band_ticks is not None and self.price_band_pct is not None:
            raise ValueError("set price_band_ticks or price_band_pct, not both")
        old = self.band_requires_reference
        if old is not None:
            if self.price_band_without_reference is not None:
                raise ValueError(
                    "set price_band_without_reference only (band_requires_reference is its"
                    " old name)"
                )
            msgspec.structs.force_setattr(
                self, "price_band_without_reference", "deny" if old else "allow"
            )


class AccountLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of one ``[accounts.KEY]`` section; ``instruments`` override per instrument."""

    allowed: bool | None = None
    max_open_orders: PositiveInt | None = None
    orders_per_second: PositiveInt | None = None
    orders_per_minute: PositiveInt | None = None
    modifies_per_second: PositiveInt | None = None
    modifies_per_minute: PositiveInt | None = None
    cancels_per_second: PositiveInt | None = None
    cancels_per_minute: PositiveInt | None = None
    daily_loss_reduce_at: Decimal | None = None
    daily_loss_halt_at: Decimal | None = None
    instruments: dict[str, InstrumentLimits] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        _positive(self, "daily_loss_reduce_at", "daily_loss_halt_at")
        reduce_at, halt_at = self.daily_loss_reduce_at, self.daily_loss_halt_at
        if reduce_at is not None and halt_at is not None and reduce_at > halt_at:
            raise ValueError(
                f"daily_loss_reduce_at ({reduce_at}) must not exceed daily_loss_halt_at ({halt_at})"
            )


class KillSwitchPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[kill_switch]``: the state the kill switch goes to (never back) when something
    that must not happen happens. ``ACTIVE`` only logs and counts; see docs/safety/."""

    on_impossible_fill: KillSwitchState = KillSwitchState.REDUCING
    on_limits_reload_error: KillSwitchState = KillSwitchState.REDUCING


class LimitsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole limits file."""

    version: Literal[1] = 1
    kill_switch: KillSwitchPolicy = msgspec.field(default_factory=KillSwitchPolicy)
    aliases: dict[str, str | list[str]] = msgspec.field(default_factory=dict)
    defaults: InstrumentLimits = msgspec.field(default_factory=InstrumentLimits)
    instruments: dict[str, InstrumentLimits] = msgspec.field(default_factory=dict)
    accounts: dict[str, AccountLimits] = msgspec.field(default_factory=dict)


# -- parsing ------------------------------------------------------------------


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else f'"{name}"'


def _convert(data: object, kind: type[_S], where: str) -> _S:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        # The settings' words: a misspelt key is "unknown key" with the keys there.
        message = validation_text(exc, kind).partition(" - at `$")[0]
        key = ".".join(part for part in (where, validation_key(exc)) if part)
        raise ConfigError(message, path=key or None) from exc


def _table(data: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"must be a table, got {type(value).__name__}", path=where + name)
    return value


def parse_limits(data: Mapping[str, Any]) -> LimitsConfig:
    """Typed limits from parsed TOML; a :class:`ConfigError` names the offending key."""
    top = dict(data)
    instruments = {
        name: _convert(section, InstrumentLimits, f"instruments.{_key(name)}")
        for name, section in _table(top, "instruments", "").items()
    }
    accounts: dict[str, AccountLimits] = {}
    for name, section in _table(top, "accounts", "").items():
        where = f"accounts.{_key(name)}"
        if not isinstance(section, dict):
            raise ConfigError(f"must be a table, got {type(section).__name__}", path=where)
        body = dict(section)
        nested = {
            sub: _convert(sub_section, InstrumentLimits, f"{where}.instruments.{_key(sub)}")
            for sub, sub_section in _table(body, "instruments", where + ".").items()
        }
        body.pop("instruments", None)
        account = _convert(body, AccountLimits, where)
        accounts[name] = msgspec.structs.replace(account, instruments=nested)
    top.pop("instruments", None)
    top.pop("accounts", None)
    config = _convert(top, LimitsConfig, "")
    for alias, patterns in config.aliases.items():
        if not patterns or any(not p for p in _as_list(patterns)):
            raise ConfigError(
                "an alias needs at least one non-empty pattern", path=f"aliases.{alias}"
            )
    return msgspec.structs.replace(config, instruments=instruments, accounts=accounts)


def load_limits(path: str | Path) -> LimitsConfig:
    """Read and parse a limits file. Decimals stay exact (TOML floats parse as ``Decimal``)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError as exc:
        raise ConfigError("limits file not found", path=str(file)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read limits file: {exc}", path=str(file)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(file)) from exc
    try:
        return parse_limits(data)
    except ConfigError as exc:
        raise ConfigError(str(exc), path=str(file)) from exc


def _as_list(patterns: str | list[str]) -> list[str]:
    return [patterns] if isinstance(patterns, str) else patterns


# -- resolution -----------------------------------------------------------------


class AccountRules(msgspec.Struct, frozen=True, kw_only=True):
    """Account-wide limits after layering every matching ``[accounts]`` section."""

    account_id: str
    allowed: bool
    max_open_orders: int | None = None
    orders_per_second: int | None = None
    orders_per_minute: int | None = None
    modifies_per_second: int | None = None
    modifies_per_minute: int | None = None
    cancels_per_second: int | None = None
    cancels_per_minute: int | None = None
    daily_loss_reduce_at: Decimal | None = None
    daily_loss_halt_at: Decimal | None = None
    matched: tuple[str, ...] = ()


class ResolvedLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the rules need for one account and symbol, computed once per file version.

    ``allowed`` is False when the instrument matched no section or a matching
    section says ``allowed = false``; ``matched`` lists the keys that matched,
    least specific first. Unset limits are ``None`` (no limit).
    """

    symbol: str
    account: AccountRules
    allowed: bool
    matched: tuple[str, ...] = ()
    max_order_qty: int | None = None
    max_position: int | None = None
    max_order_notional: Decimal | None = None
    max_open_orders: int | None = None
    price_band_ticks: int | None = None
    price_band_pct: Decimal | None = None
    price_band_without_reference: Literal["deny", "allow"] = "deny"
    price_rounding: PriceRounding = PriceRounding.REFUSE
    self_trade_prevention: bool = True


_INSTRUMENT_FIELDS = tuple(
    f
    for f in InstrumentLimits.__struct_fields__
    if f not in ("price_band_ticks", "price_band_pct", "band_requires_reference")
)
_ACCOUNT_FIELDS = tuple(f for f in AccountLimits.__struct_fields__ if f != "instruments")


def _specificity(pattern: str) -> tuple[int, int]:
    """Exact keys beat patterns; among patterns, more literal characters win."""
    wild = sum(pattern.count(c) for c in "*?[")
    return (0 if wild else 1, len(pattern) - wild)


@final
class _Matcher:
    """The keys of one table compiled to patterns (aliases expanded)."""

    def __init__(self, keys: Iterable[str], aliases: Mapping[str, str | list[str]]) -> None:
        self._entries: list[tuple[str, tuple[str, ...]]] = [
            (key, tuple(_as_list(aliases[key])) if key in aliases else (key,)) for key in keys
        ]

    def match(self, name: str) -> list[str]:
        """Keys matching ``name``, least specific first (ties in file order)."""
        found: list[tuple[tuple[int, int], int, str]] = []
        for index, (key, patterns) in enumerate(self._entries):
            ranks = [_specificity(p) for p in patterns if p == name or fnmatchcase(name, p)]
            if ranks:
                found.append((max(ranks), index, key))
        found.sort()
        return [key for _, _, key in found]


@final
class Limits:
    """A parsed limits file, compiled for fast lookups. Immutable; a reload builds a new one."""

    def __init__(self, config: LimitsConfig, *, source: str = "") -> None:
        self.config = config
        self.source = source
        self._accounts = _Matcher(config.accounts, config.aliases)
        self._instruments = _Matcher(config.instruments, config.aliases)
        self._account_matchers = {
            name: _Matcher(section.instruments, config.aliases)
            for name, section in config.accounts.items()
        }
        self._account_cache: dict[str, AccountRules] = {}
        self._cache: dict[str, dict[str, ResolvedLimits]] = {}

    @classmethod
    def from_toml(cls, text: str, *, source: str = "") -> Limits:
        """Compile limits from TOML text (handy in tests and for embedded limits)."""
        try:
            data = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=source or None) from exc
        return cls(parse_limits(data), source=source)

    def account(self, account_id: str) -> AccountRules:
        """Layered account limits; ``allowed`` is False when no ``[accounts]`` key matches."""
        rules = self._account_cache.get(account_id)
        if rules is None:
            rules = self._account_cache[account_id] = self._build_account(account_id)
        return rules

    def resolve(self, account_id: str, symbol: str) -> ResolvedLimits:
        """The limits for ``symbol`` traded in ``account_id`` (cached; the hot path)."""
        per_account = self._cache.get(account_id)
        if per_account is None:
            per_account = self._cache[account_id] = {}
        resolved = per_account.get(symbol)
        if resolved is None:
            resolved = per_account[symbol] = self._build(account_id, symbol)
        return resolved

    def _build_account(self, account_id: str) -> AccountRules:
        matched = self._accounts.match(account_id)
        values: dict[str, Any] = {}
        for key in matched:
            section = self.config.accounts[key]
            for field in _ACCOUNT_FIELDS:
                value = getattr(section, field)
                if value is not None:
                    values[field] = value
        allowed = bool(matched) and values.pop("allowed", True) is not False
        return AccountRules(
            account_id=account_id, allowed=allowed, matched=tuple(matched), **values
        )

    def _build(self, account_id: str, symbol: str) -> ResolvedLimits:
        account = self.account(account_id)
        layers: list[tuple[str, InstrumentLimits]] = [
            (key, self.config.instruments[key]) for key in self._instruments.match(symbol)
        ]
        for account_key in account.matched:
            section = self.config.accounts[account_key]
            layers.extend(
                (f"accounts.{account_key}.{key}", section.instruments[key])
                for key in self._account_matchers[account_key].match(symbol)
            )
        values: dict[str, Any] = {}
        for layer in [self.config.defaults, *(s for _, s in layers)]:
            for field in _INSTRUMENT_FIELDS:
                value = getattr(layer, field)
                if value is not None:
                    values[field] = value
            if layer.price_band_ticks is not None or layer.price_band_pct is not None:
                values["price_band_ticks"] = layer.price_band_ticks
                values["price_band_pct"] = layer.price_band_pct
        allowed = bool(layers) and values.pop("allowed", True) is not False
        return ResolvedLimits(
            symbol=symbol,
            account=account,
            allowed=allowed,
            matched=tuple(key for key, _ in layers),
            **values,
        )
