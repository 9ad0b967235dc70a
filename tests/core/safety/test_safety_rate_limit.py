"""The rate limiter: per-second and per-minute sliding windows per account and kind."""

from __future__ import annotations

from ec_core.safety import Code, Limits, RateKind, RateLimiter
from safety_support import NOW_NS

SECOND = 1_000_000_000
LIMITS = Limits.from_toml(
    """
    [accounts."*"]
    orders_per_second = 3
    orders_per_minute = 5
    modifies_per_second = 1
    cancels_per_minute = 2
    """
)


def test_per_second_window_slides() -> None:
    limiter, rules = RateLimiter(), LIMITS.account("A")
    for i in range(3):
        assert limiter.check(rules, RateKind.ORDERS, NOW_NS + i) is None
        limiter.record("A", RateKind.ORDERS, NOW_NS + i)
    violation = limiter.check(rules, RateKind.ORDERS, NOW_NS + 10)
    assert violation is not None
    assert violation.code == Code.RATE_LIMIT
    assert violation.field == "orders"
    assert "/s" in violation.rule
    # the first send leaves the window exactly one second later
    assert limiter.check(rules, RateKind.ORDERS, NOW_NS + SECOND - 1) is not None
    assert limiter.check(rules, RateKind.ORDERS, NOW_NS + SECOND) is None


def test_per_minute_window() -> None:
    limiter, rules = RateLimiter(), LIMITS.account("A")
    for i in range(5):
        limiter.record("A", RateKind.ORDERS, NOW_NS + i * 2 * SECOND)
    violation = limiter.check(rules, RateKind.ORDERS, NOW_NS + 10 * SECOND)
    assert violation is not None
    assert "/min" in violation.rule
    assert violation.limit == 5
    assert limiter.check(rules, RateKind.ORDERS, NOW_NS + 60 * SECOND) is None
    assert limiter.count("A", RateKind.ORDERS, NOW_NS + 60 * SECOND) == (0, 4)


def test_kinds_and_accounts_are_counted_apart() -> None:
    limiter = RateLimiter()
    limiter.record("A", RateKind.MODIFIES, NOW_NS)
    assert limiter.check(LIMITS.account("A"), RateKind.MODIFIES, NOW_NS) is not None
    assert limiter.check(LIMITS.account("A"), RateKind.ORDERS, NOW_NS) is None
    assert limiter.check(LIMITS.account("B"), RateKind.MODIFIES, NOW_NS) is None
    limiter.record("A", RateKind.CANCELS, NOW_NS)
    assert limiter.check(LIMITS.account("A"), RateKind.CANCELS, NOW_NS) is None
    limiter.record("A", RateKind.CANCELS, NOW_NS)
    violation = limiter.check(LIMITS.account("A"), RateKind.CANCELS, NOW_NS)
    assert violation is not None
    assert violation.field == "cancels"


def test_no_limits_means_unlimited() -> None:
    limiter, rules = RateLimiter(), Limits.from_toml('[accounts."*"]\n').account("A")
    for i in range(1000):
        limiter.record("A", RateKind.ORDERS, NOW_NS + i)
    assert limiter.check(rules, RateKind.ORDERS, NOW_NS + 1000) is None
