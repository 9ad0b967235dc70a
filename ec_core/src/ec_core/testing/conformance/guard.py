"""The guard against silently replacing a kit test.

A plugin author's subclass inherits every kit test. Defining a method of the same
name replaces the kit's test with the author's, and a replaced test that passes
says nothing about the vendor. So an override is allowed only as a declared,
*strict* expected failure, with a reason::

    @pytest.mark.xfail(strict=True, reason="the venue cannot modify a stop's price")
    async def test_modify_keeps_the_chain(self) -> None: ...

Strict means the run fails the day the vendor starts passing the kit test, so the
override is removed then. Anything else (no mark, ``strict=False``, no reason, a
conditional xfail, a class-wide ``skip``/``xfail``) raises
:class:`ConformanceOverrideError` when the class is created, i.e. when pytest
imports the test module: the run fails with a collection error naming the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, final

from ec_core.errors import EcError

__all__ = ["ConformanceOverrideError", "check_class_marks", "check_overrides", "override_problem"]


@final
class ConformanceOverrideError(EcError, TypeError):
    """A subclass replaces a kit test without a strict, reasoned xfail. ``code`` names the fault.

    Codes: ``OVERRIDE_NOT_XFAIL``, ``OVERRIDE_NOT_STRICT``, ``OVERRIDE_NO_REASON``,
    ``OVERRIDE_CONDITIONAL``, ``CLASS_WIDE_MARK``.
    """

    def __init__(self, code: str, *, test_class: str, test: str, kit_class: str, detail: str):
        super().__init__(
            f"{code}: {test_class}.{test} overrides the conformance test of {kit_class};"
            f" {detail}. An override must be marked"
            ' @pytest.mark.xfail(strict=True, reason="why the vendor cannot pass it").'
        )
        self.code = code
        self.test_class = test_class
        self.test = test
        self.kit_class = kit_class
        self.detail = detail


def _as_marks(raw: object) -> list[Any]:
    """A ``pytestmark`` value (one mark or a list of them) as a list."""
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def _marks(obj: object) -> list[Any]:
    """pytest's marks on a function (what ``@pytest.mark.x`` stored on it)."""
    return _as_marks(getattr(obj, "pytestmark", None))


def _unwrap(value: object) -> object:
    if isinstance(value, staticmethod | classmethod):
        return value.__func__
    return value


def override_problem(value: object) -> tuple[str, str] | None:
    """``(code, detail)`` of what is wrong with an override, or ``None`` if it is allowed."""
    xfails = [m for m in _marks(_unwrap(value)) if getattr(m, "name", None) == "xfail"]
    if not xfails:
        return "OVERRIDE_NOT_XFAIL", "it carries no xfail mark"
    for mark in xfails:
        kwargs: Mapping[str, object] = getattr(mark, "kwargs", {})
        args: tuple[object, ...] = getattr(mark, "args", ())
        conditions = [*args, *([kwargs["condition"]] if "condition" in kwargs else [])]
        if any(c is not True for c in conditions):
            return "OVERRIDE_CONDITIONAL", f"its xfail has a condition {conditions!r}"
        if kwargs.get("strict") is not True:
            return "OVERRIDE_NOT_STRICT", "its xfail is not strict=True"
        reason = kwargs.get("reason")
        if not (isinstance(reason, str) and reason.strip()):
            return "OVERRIDE_NO_REASON", "its xfail gives no reason"
    return None


def _provider(cls: type, name: str) -> type:
    """The class whose ``name`` attribute ``cls`` really uses (first in the MRO)."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    raise LookupError(name)  # pragma: no cover - only called for inherited names


def check_overrides(cls: type, kit_tests: Mapping[str, type]) -> None:
    """Raise :class:`ConformanceOverrideError` for the first kit test ``cls`` replaces badly.

    ``kit_tests`` maps each kit test name to the kit class that defines it. Whatever
    class provides the name (``cls`` itself, a mixin, an intermediate base) is checked,
    unless it is a kit class.
    """
    for name, kit_class in kit_tests.items():
        provider = _provider(cls, name)
        if name in vars(provider).get("_ec_kit_own", {}):
            continue
        problem = override_problem(vars(provider)[name])
        if problem is not None:
            code, detail = problem
            raise ConformanceOverrideError(
                code,
                test_class=f"{cls.__name__} (via {provider.__name__})"
                if provider is not cls
                else cls.__name__,
                test=name,
                kit_class=kit_class.__name__,
                detail=detail,
            )


def check_class_marks(cls: type, kit_class: type) -> None:
    """Refuse a class-wide ``skip``/``xfail``: it would silence every kit test at once."""
    for mark in _as_marks(vars(cls).get("pytestmark")):
        name = getattr(mark, "name", None)
        if name in ("skip", "xfail"):
            raise ConformanceOverrideError(
                "CLASS_WIDE_MARK",
                test_class=cls.__name__,
                test="*",
                kit_class=kit_class.__name__,
                detail=f"a class-wide {name} mark hides every kit test; mark single overrides",
            )
