"""Instrument definitions: the built-in set of real futures and user TOML files.

A TOML file is a list of ``[[instrument]]`` tables with the fields of
:class:`ec_core.model.Instrument` plus three simulator fields, ``margin``
(initial margin per contract), ``maintenance_margin`` (per contract, at most the
initial; default: equal to it) and ``reference_price`` (where the market
simulator starts), ``rules`` (the Globex product rules, :class:`ProductRules`) and
``holidays``: a list of holiday tables (``day``, ``name``, optional ``open`` /
``close`` for a half day; none of them for a closed day) or the name of a list in
the document's ``[holidays]`` table. They become the instrument's
:class:`~ec_core.calendar.TradingCalendar`, which the engine, the pre-trade rules and
the CQG-dialect server all read. Decimals may be strings (preferred), integers or floats
(read through their shortest repr); times are ``"HH:MM"`` strings or TOML
local times. Every problem raises :class:`ec_core.errors.ConfigError` whose
``path`` names the offending key, e.g. ``instrument[2].tick_size``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import time
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
from ec_core.calendar import Holiday, TradingCalendar
from ec_core.errors import ConfigError
from ec_core.model import ExecInstruction, Instrument, OrderType, TradingHours

__all__ = [
    "InstrumentSpec",
    "ProductRules",
    "builtin_instruments",
    "builtin_specs",
    "load_instrument_specs",
    "load_instruments",
    "parse_instrument_specs",
]

_SIM_KEYS = ("margin", "maintenance_margin", "reference_price")
_DECIMAL_KEYS = ("tick_size", "multiplier", *_SIM_KEYS)
_INSTRUMENT_KEYS = frozenset(Instrument.__struct_fields__)
_HOURS_KEYS = frozenset(TradingHours.__struct_fields__)
_RULES_DECIMALS = ("protection_points", "band_points", "min_price", "velocity_points")


class ProductRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Globex rules of one product.

    ``protection_points``: market and stop-market orders fill no further than this
    from the best opposite price (market) or the trigger (stop); the rest rests as a
    limit order there. ``band_points``: a buy limit above, or a sell limit below, the
    last trade by more than this is rejected ``PRICE_OUTSIDE_BAND``. ``min_price``:
    the lowest price an order may carry (``None``: none, negative prices allowed).
    ``order_types`` and ``exec_instructions``: what the product accepts (``None``:
    everything the engine supports). ``preopen_minutes``: the pre-open before each
    session opens (orders taken, not matched; an opening auction at the open).
    ``velocity_points``: velocity logic: when an aggressing order moves the price more
    than this within ``velocity_seconds``, matching pauses for ``halt_seconds`` (orders
    taken, not matched) and the market re-opens with an auction.
    ``settlement_seconds``: the closing range the daily settlement price is taken
    from (the volume-weighted average of the trades in the last this many seconds
    of the trading day; ``None``: the last trade, see docs/mock/engine.md).
    """

    protection_points: Decimal | None = None
    band_points: Decimal | None = None
    min_price: Decimal | None = None
    order_types: frozenset[OrderType] | None = None
    exec_instructions: frozenset[ExecInstruction] | None = None
    preopen_minutes: int | None = None
    velocity_points: Decimal | None = None
    velocity_seconds: int = 1
    halt_seconds: int = 5
    settlement_seconds: int | None = None


class InstrumentSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An instrument and what the simulator needs to know about it beyond the contract."""

    instrument: Instrument
    margin: Decimal | None = None
    maintenance_margin: Decimal | None = None
    reference_price: Decimal | None = None
    rules: ProductRules | None = None


_RULES_KEYS = frozenset(ProductRules.__struct_fields__)


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"expected a decimal number, got {value!r}", path=path)
    try:
        result = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise ConfigError(f"not a decimal number: {value!r}", path=path) from None
    if not result.is_finite():
        raise ConfigError(f"not a finite number: {value!r}", path=path)
    return result


def _time(value: object, path: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"expected a time like '17:00', got {value!r}", path=path)


def _hours(raw: object, path: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a table, got {raw!r}", path=path)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _HOURS_KEYS:
            allowed = ", ".join(sorted(_HOURS_KEYS))
            raise ConfigError(f"unknown key (allowed: {allowed})", path=f"{path}.{key}")
        out[key] = _time(value, f"{path}.{key}") if key in ("open", "close") else value
    return out


def _rules(raw: object, path: str) -> ProductRules:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a table, got {raw!r}", path=path)
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _RULES_KEYS:
            allowed = ", ".join(sorted(_RULES_KEYS))
            raise ConfigError(f"unknown key (allowed: {allowed})", path=f"{path}.{key}")
        fields[key] = _decimal(value, f"{path}.{key}") if key in _RULES_DECIMALS else value
    try:
        return msgspec.convert(fields, ProductRules)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rpartition("`$.")[2].rstrip("`").split("[")[0] if "`$." in message else ""
        raise ConfigError(message, path=f"{path}.{where}" if where else path) from None


def _holiday_list(raw: object, path: str) -> tuple[Holiday, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"expected a list of holiday tables, got {raw!r}", path=path)
    out: list[Holiday] = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"expected a table, got {item!r}", path=where)
        fields = dict(item)
        for key in ("open", "close"):
            if key in fields:
                fields[key] = _time(fields[key], f"{where}.{key}")
        try:
            out.append(msgspec.convert(fields, Holiday))
        except msgspec.ValidationError as exc:
            raise ConfigError(str(exc), path=where) from None
    return tuple(out)


def _holidays(document: Mapping[str, Any], prefix: str) -> dict[str, tuple[Holiday, ...]]:
    """The named holiday lists of a document's ``[holidays]`` table."""
    raw = document.get("holidays", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix}expected a table of named holiday lists", path="holidays")
    return {name: _holiday_list(value, f"holidays.{name}") for name, value in raw.items()}


def _spec(
    raw: object, path: str, named: Mapping[str, tuple[Holiday, ...]] | None = None
) -> InstrumentSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a table, got {raw!r}", path=path)
    fields: dict[str, Any] = {}
    extra: dict[str, Decimal] = {}
    rules: ProductRules | None = None
    holidays: tuple[Holiday, ...] = ()
    for key, value in raw.items():
        key_path = f"{path}.{key}"
        if key in _DECIMAL_KEYS:
            number = _decimal(value, key_path)
            if key in _SIM_KEYS:
                extra[key] = number
            else:
                fields[key] = number
        elif key == "trading_hours":
            fields[key] = _hours(value, key_path)
        elif key == "rules":
            rules = _rules(value, key_path)
        elif key == "holidays":
            if isinstance(value, str):
                if value not in (named or {}):
                    known = ", ".join(sorted(named or {})) or "none"
                    raise ConfigError(
                        f"no holiday list named {value!r} (defined: {known})", path=key_path
                    )
                holidays = (named or {})[value]
            else:
                holidays = _holiday_list(value, key_path)
        elif key in _INSTRUMENT_KEYS:
            fields[key] = value
        else:
            allowed = ", ".join(sorted(_INSTRUMENT_KEYS | {*_SIM_KEYS, "rules", "holidays"}))
            raise ConfigError(f"unknown key (allowed: {allowed})", path=key_path)
    for required in ("symbol", "tick_size"):
        if required not in fields:
            raise ConfigError("required key is missing", path=f"{path}.{required}")
    if rules is not None and rules.min_price is not None:
        # one lowest price: the engine rejects under it and ec's pre-trade check denies
        # under the instrument's before sending, so rules.min_price is the instrument's
        given = fields.get("min_price")
        if given is not None and _decimal(given, f"{path}.min_price") != rules.min_price:
            raise ConfigError(
                f"min_price {given} differs from rules.min_price {rules.min_price}: give one",
                path=f"{path}.min_price",
            )
        fields["min_price"] = rules.min_price
    maintenance = extra.get("maintenance_margin")
    if maintenance is not None and (
        maintenance <= 0 or ("margin" in extra and maintenance > extra["margin"])
    ):
        raise ConfigError(
            f"maintenance_margin {maintenance} must be > 0 and at most the initial margin"
            f" {extra.get('margin')}",
            path=f"{path}.maintenance_margin",
        )
    if holidays:
        if "trading_hours" not in fields:
            raise ConfigError(
                "holidays need trading_hours (the sessions they change)", path=f"{path}.holidays"
            )
        hours = msgspec.convert(fields["trading_hours"], TradingHours)
        fields["calendar"] = TradingCalendar.from_hours(hours, holidays)
    try:
        instrument = msgspec.convert(fields, Instrument)
    except msgspec.ValidationError as exc:
        # msgspec names the key as ``$.key`` / ``$.trading_hours.open``: keep it.
        message = str(exc)
        where = message.rpartition("`$.")[2].rstrip("`") if "`$." in message else ""
        if not where:  # a check in Instrument.__post_init__: it names the field in words
            where = next((key for key in fields if f"{key} " in message), "")
        raise ConfigError(message, path=f"{path}.{where}" if where else path) from None
    return InstrumentSpec(instrument=instrument, rules=rules, **extra)


def parse_instrument_specs(
    document: Mapping[str, Any], *, source: str = ""
) -> list[InstrumentSpec]:
    """Instrument specs from an already-parsed TOML document (``{"instrument": [...]}``)."""
    prefix = f"{source}: " if source else ""
    items = document.get("instrument")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{prefix}expected one or more [[instrument]] tables", path="instrument")
    named = _holidays(document, prefix)
    specs = [_spec(item, f"instrument[{i}]", named) for i, item in enumerate(items)]
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        symbol = spec.instrument.symbol
        if symbol in seen:
            raise ConfigError(
                f"{prefix}duplicate symbol {symbol!r} (first at instrument[{seen[symbol]}])",
                path=f"instrument[{i}].symbol",
            )
        seen[symbol] = i
    return specs


def load_instrument_specs(path: str | Path) -> list[InstrumentSpec]:
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read instruments file: {exc.strerror}", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    return parse_instrument_specs(document, source=path.name)


def load_instruments(path: str | Path) -> list[Instrument]:
    """Instruments defined in a user TOML file."""
    return [spec.instrument for spec in load_instrument_specs(path)]


@cache
def _builtin() -> tuple[InstrumentSpec, ...]:
    text = resources.files("ec_mock").joinpath("instruments.toml").read_text(encoding="utf-8")
    return tuple(parse_instrument_specs(tomllib.loads(text), source="instruments.toml"))


def builtin_specs() -> list[InstrumentSpec]:
    """The built-in instruments with their margins, reference prices and product rules."""
    return list(_builtin())


def builtin_instruments() -> list[Instrument]:
    """CLE (crude), EP (E-mini S&P), ENQ (E-mini Nasdaq), GCE (gold), TYA (10-year note), EU6."""
    return [spec.instrument for spec in _builtin()]
