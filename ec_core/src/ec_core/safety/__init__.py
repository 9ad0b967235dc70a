"""Pre-trade safety: the checks every order passes before it leaves the process.

* :class:`PreTradeChecks` — mandatory guards (kill switch, rate limit, allowed
  account and instrument) plus every registered validator, all violations at once;
* :class:`KillSwitch` — ACTIVE → REDUCING → HALTED, switchable by API, by
  ``ec kill-switch`` and by the daily loss limit, shared through a state file;
* :class:`LimitsFile` / :class:`StaticLimits` — the limits in force, with hot reload;
* :class:`RateLimiter` — sliding one-second and one-minute windows per account;
* :func:`check_activation` — a payload's activation window;
* :func:`check_known_account` — an account the session does not trade is denied;
* :mod:`ec_core.safety.rules` — the built-in validators; :class:`Code` — their codes.

See ``docs/safety/validation.md`` and ``docs/reference/limits.md``.
"""

from ec_core.safety.accounts import check_known_account
from ec_core.safety.activation import check_activation, datetime_ns
from ec_core.safety.checks import PreTradeChecks
from ec_core.safety.codes import Code
from ec_core.safety.kill_switch import (
    KillSwitch,
    KillSwitchRecord,
    KillSwitchState,
    kill_switch_path,
)
from ec_core.safety.limits import (
    AccountLimits,
    AccountRules,
    InstrumentLimits,
    KillSwitchPolicy,
    Limits,
    LimitsConfig,
    PriceRounding,
    ResolvedLimits,
    load_limits,
    parse_limits,
)
from ec_core.safety.limits_source import LimitsFile, LimitsSource, StaticLimits
from ec_core.safety.rate_limit import RateKind, RateLimiter

__all__ = [
    "AccountLimits",
    "AccountRules",
    "Code",
    "InstrumentLimits",
    "KillSwitch",
    "KillSwitchPolicy",
    "KillSwitchRecord",
    "KillSwitchState",
    "Limits",
    "LimitsConfig",
    "LimitsFile",
    "LimitsSource",
    "PreTradeChecks",
    "PriceRounding",
    "RateKind",
    "RateLimiter",
    "ResolvedLimits",
    "StaticLimits",
    "check_activation",
    "check_known_account",
    "datetime_ns",
    "kill_switch_path",
    "load_limits",
    "parse_limits",
]
