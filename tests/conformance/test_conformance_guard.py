"""The override guard: a kit test may be replaced only under a strict, reasoned xfail."""

from __future__ import annotations

from typing import Any

import pytest
from ec_core.errors import EcError
from ec_core.testing.conformance import (
    ConformanceOverrideError,
    OrderConformance,
    SessionConformance,
    VendorConformance,
)

A = Any
REASON = "the venue cannot modify an order"


def codes_of(error: pytest.ExceptionInfo[ConformanceOverrideError]) -> tuple[str, str]:
    return error.value.code, error.value.test


def test_every_kit_test_is_known_to_the_guard() -> None:
    names = set(VendorConformance.kit_tests())
    assert {n for n in dir(VendorConformance) if n.startswith("test_")} == names
    assert VendorConformance.kit_tests()["test_cancel_ends_the_order"] is OrderConformance


def test_a_plain_override_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(ConformanceOverrideError) as raised:

        class TestVendor(VendorConformance):
            async def test_cancel_ends_the_order(self, *_: A, **__: A) -> None:
                pass

    assert codes_of(raised) == ("OVERRIDE_NOT_XFAIL", "test_cancel_ends_the_order")
    assert raised.value.kit_class == "OrderConformance"
    assert "TestVendor.test_cancel_ends_the_order" in str(raised.value)
    assert isinstance(raised.value, EcError)
    assert isinstance(raised.value, TypeError)


def test_disabling_a_kit_test_with_none_is_refused() -> None:
    with pytest.raises(ConformanceOverrideError) as raised:

        class TestVendor(SessionConformance):
            test_accounts_include_the_test_account = None  # type: ignore[assignment]

    assert codes_of(raised) == ("OVERRIDE_NOT_XFAIL", "test_accounts_include_the_test_account")


@pytest.mark.parametrize(
    ("mark", "code"),
    [
        (pytest.mark.xfail(reason=REASON), "OVERRIDE_NOT_STRICT"),
        (pytest.mark.xfail(strict=False, reason=REASON), "OVERRIDE_NOT_STRICT"),
        (pytest.mark.xfail(strict=True), "OVERRIDE_NO_REASON"),
        (pytest.mark.xfail(strict=True, reason="  "), "OVERRIDE_NO_REASON"),
        (pytest.mark.xfail(False, strict=True, reason=REASON), "OVERRIDE_CONDITIONAL"),
        (
            pytest.mark.xfail("sys.platform == 'linux'", strict=True, reason=REASON),
            "OVERRIDE_CONDITIONAL",
        ),
        (pytest.mark.skip(reason=REASON), "OVERRIDE_NOT_XFAIL"),
        (pytest.mark.skipif(True, reason=REASON), "OVERRIDE_NOT_XFAIL"),
    ],
)
def test_an_override_needs_an_unconditional_strict_xfail_with_a_reason(
    mark: pytest.MarkDecorator, code: str
) -> None:
    with pytest.raises(ConformanceOverrideError) as raised:

        class TestVendor(VendorConformance):
            @mark
            async def test_modify_gives_a_new_id_on_the_same_chain(
                self, *_: Any, **__: Any
            ) -> None:
                pass

    assert codes_of(raised) == (code, "test_modify_gives_a_new_id_on_the_same_chain")


def test_a_strict_xfail_with_a_reason_is_allowed() -> None:
    class TestVendor(VendorConformance):
        @pytest.mark.xfail(strict=True, reason=REASON)
        async def test_modify_gives_a_new_id_on_the_same_chain(self, *_: A, **__: A) -> None:
            raise AssertionError("cannot")

    assert "test_modify_gives_a_new_id_on_the_same_chain" in vars(TestVendor)


def test_an_override_from_a_mixin_is_checked_too() -> None:
    class Mixin:
        async def test_cancel_ends_the_order(self, *_: A, **__: A) -> None:
            pass

    with pytest.raises(ConformanceOverrideError) as raised:

        class TestVendor(Mixin, VendorConformance):
            pass

    assert codes_of(raised) == ("OVERRIDE_NOT_XFAIL", "test_cancel_ends_the_order")
    assert "via Mixin" in raised.value.test_class


def test_a_class_wide_skip_or_xfail_is_refused() -> None:
    for mark in (pytest.mark.skip(reason="later"), [pytest.mark.xfail(strict=True, reason="x")]):
        with pytest.raises(ConformanceOverrideError) as raised:

            class TestVendor(VendorConformance):
                pytestmark = mark

        assert raised.value.code == "CLASS_WIDE_MARK"


def test_new_tests_fixtures_and_settings_of_a_subclass_are_free() -> None:
    class TestVendor(VendorConformance):
        vendor_name = "acme"
        timeout = 1.0

        @pytest.fixture
        def market_control(self) -> None:
            return None

        async def test_something_of_acme_only(self, *_: A, **__: A) -> None:
            pass

    assert TestVendor.kit_tests() == VendorConformance.kit_tests()


def test_a_grandchild_inherits_an_allowed_override_without_repeating_it() -> None:
    class Base(VendorConformance):
        @pytest.mark.xfail(strict=True, reason=REASON)
        async def test_cancel_ends_the_order(self, *_: A, **__: A) -> None:
            raise AssertionError

    class TestVendor(Base):
        pass

    assert TestVendor.test_cancel_ends_the_order is Base.test_cancel_ends_the_order


def test_a_test_replaced_after_class_creation_is_caught_when_it_runs() -> None:
    """The autouse requirement fixture repeats the check on the class the test runs in."""
    from ec_core.testing.conformance.guard import check_overrides

    class TestVendor(VendorConformance):
        pass

    async def replaced(self: object, *_: Any, **__: Any) -> None:
        pass

    TestVendor.test_cancel_ends_the_order = replaced  # type: ignore[method-assign]
    with pytest.raises(ConformanceOverrideError) as raised:
        check_overrides(TestVendor, TestVendor.kit_tests())
    assert codes_of(raised) == ("OVERRIDE_NOT_XFAIL", "test_cancel_ends_the_order")
