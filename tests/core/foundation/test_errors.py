"""One exception tree: everything derives from EcError, carries its values and survives pickling."""

from __future__ import annotations

import inspect
import pickle
import re
from decimal import Decimal

import ec_core.errors as errors
import pytest
from ec_core.errors import (
    AmbiguousVendorError,
    AuthError,
    ConfigError,
    ConnectionLostError,
    EcError,
    GatewayUnavailableError,
    HistoryError,
    HistoryNotEntitledError,
    HistoryRateLimitError,
    HistoryRequestError,
    HistoryTooFarBackError,
    IllegalTransitionError,
    JournalError,
    JournalIntegrityError,
    OrderDeniedError,
    OrderError,
    OrderNotSentError,
    OrderRejectedError,
    OrderUnknownError,
    PayloadStateError,
    PluginError,
    PnlUnknownError,
    PriceError,
    ProtocolError,
    RequestTimeoutError,
    SessionError,
    SymbolNotFoundError,
    VendorNotFoundError,
    Violation,
    VoidRefusedError,
)
from ec_core.model import OrderState

EXCEPTIONS = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
]

V1 = Violation(code="MAX_QTY", field="qty", rule="<= 10", value=11, limit=10)
V2 = Violation(code="TICK", field="limit_price", rule="on tick grid", value=Decimal("1.3"))

# One instance of every error class, built the way ec code builds it.
INSTANCES: list[EcError] = [
    EcError("root"),
    ConfigError("must be a string", path="vendors.cqg.url", file="ec.toml"),
    PluginError("broken", plugin="x"),
    VendorNotFoundError("cqg", installed=["mock"], hint="install it with `pip install ec-cqg`"),
    AmbiguousVendorError("cqg", distributions=["ec-cqg", "ec-other"]),
    SessionError("session"),
    ConnectionLostError("gone"),
    GatewayUnavailableError("redis at redis://h:6379/0 unavailable"),
    OrderNotSentError("order w1.x.1 not sent: EXPIRED", code="EXPIRED", cl_order_id="w1.x.1"),
    SymbolNotFoundError("NQZ5", code="UNKNOWN_INSTRUMENT", known=["ESZ5"]),
    AuthError("bad password", code=102),
    ProtocolError("bad frame"),
    HistoryError("history", symbol="EP", code=101),
    HistoryRequestError("end before start", symbol="EP", field="end", value=3),
    HistoryTooFarBackError(symbol="EP", start_ns=1, horizon_ns=5, code=105),
    HistoryNotEntitledError("not entitled to EP history", symbol="EP", code=103),
    HistoryRateLimitError("slow down", symbol="EP", code=107, retry_after=1.5),
    PriceError("off grid", price=Decimal("1.3"), tick_size=Decimal("0.25")),
    PnlUnknownError(["CLE"]),
    IllegalTransitionError(OrderState.FILLED, OrderState.WORKING),
    OrderError("order"),
    OrderDeniedError([V1, V2]),
    OrderRejectedError("price out of band", code=7, cl_order_id="c1", details={"band": "5%"}),
    OrderUnknownError("lost", cl_order_id="c1"),
    RequestTimeoutError(cl_order_id="c1", timeout=2.5),
    JournalError("disk full"),
    JournalIntegrityError("orders.sqlite", ["records 3..5 (3) committed before are missing"]),
    PayloadStateError("payload 1 was executed before (sent)", request_id=1),
    VoidRefusedError("'c9' is not an open order (not tracked)", order_id="c9"),
]


def test_every_exception_derives_from_ec_error_and_is_exported() -> None:
    assert EXCEPTIONS
    for cls in EXCEPTIONS:
        assert issubclass(cls, EcError), cls
        assert cls.__name__ in errors.__all__
        assert cls.__doc__, cls  # says what it means


def test_all_is_sorted_complete_and_importable() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    public = {
        name
        for name, obj in vars(errors).items()
        if not name.startswith("_") and inspect.isclass(obj) and obj.__module__ == errors.__name__
    }
    assert set(errors.__all__) == public
    for name in errors.__all__:
        assert getattr(errors, name) is not None


def test_the_tree_drawn_in_the_docstring_is_the_real_tree() -> None:
    doc = errors.__doc__ or ""
    for cls in EXCEPTIONS:
        assert cls.__name__ in doc, cls
    assert issubclass(VendorNotFoundError, PluginError)
    assert all(issubclass(c, SessionError) for c in (ConnectionLostError, AuthError, ProtocolError))
    assert all(
        issubclass(c, OrderError) for c in (OrderDeniedError, OrderRejectedError, OrderUnknownError)
    )
    assert issubclass(RequestTimeoutError, OrderUnknownError)
    assert issubclass(PriceError, ValueError)  # a bad price is also a bad value
    history = (HistoryRequestError, HistoryTooFarBackError, HistoryNotEntitledError)
    assert all(issubclass(c, HistoryError) for c in (*history, HistoryRateLimitError))
    assert issubclass(HistoryError, SessionError)
    assert issubclass(HistoryRequestError, ValueError)


def test_there_is_an_instance_of_every_class_below() -> None:
    assert {type(e) for e in INSTANCES} == set(EXCEPTIONS)


@pytest.mark.parametrize("error", INSTANCES, ids=lambda e: type(e).__name__)
def test_errors_survive_pickling_with_their_values(error: EcError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)


def test_errors_carry_the_values_involved() -> None:
    config = ConfigError("must be a string", path="vendors.cqg.url", file="ec.toml")
    assert (config.path, config.file, config.message) == (
        "vendors.cqg.url",
        "ec.toml",
        "must be a string",
    )
    assert str(config) == "ec.toml: vendors.cqg.url: must be a string"
    assert str(ConfigError("bad")) == "bad"

    missing = VendorNotFoundError("cqg", installed=["zeta", "mock"], hint="pip install ec-cqg")
    assert missing.installed == ("mock", "zeta")
    assert "installed vendors: mock, zeta" in str(missing)
    assert "pip install ec-cqg" in str(missing)
    assert "installed vendors: none" in str(VendorNotFoundError("x", installed=[]))

    denied = OrderDeniedError([V1, V2])
    assert denied.codes == ("MAX_QTY", "TICK")
    assert "2 violation(s)" in str(denied)
    assert "MAX_QTY: qty <= 10 value=11 limit=10" in str(denied)

    rejected = OrderRejectedError("price out of band", code=7, cl_order_id="c1")
    assert (rejected.code, rejected.text, rejected.cl_order_id) == (7, "price out of band", "c1")
    assert str(rejected) == "order c1 rejected by venue: price out of band (code 7)"
    assert str(OrderRejectedError("no")) == "order rejected by venue: no"

    timeout = RequestTimeoutError(cl_order_id="c1", timeout=2.5)
    assert (timeout.cl_order_id, timeout.timeout) == ("c1", 2.5)
    assert "within 2.5s" in str(timeout)
    assert "None" not in str(RequestTimeoutError(timeout=1))

    assert AuthError("refused", code=102).code == 102
    assert str(AuthError("refused", code=102)) == "refused (code 102)"


def test_symbol_not_found_names_the_symbol_code_and_what_is_listed() -> None:
    error = SymbolNotFoundError("NQZ5", code=104, text="no such contract", known=["ESZ5", "CLF6"])
    assert isinstance(error, SessionError)
    assert isinstance(error, LookupError)
    assert (error.symbol, error.code, error.known) == ("NQZ5", 104, ("CLF6", "ESZ5"))
    assert str(error) == (
        "symbol 'NQZ5' is not listed by the venue (code 104): no such contract (listed: CLF6, ESZ5)"
    )
    assert str(SymbolNotFoundError("X")) == "symbol 'X' is not listed by the venue"


def _all_modules() -> list[str]:
    import importlib
    import pkgutil

    names: list[str] = []
    for top in ("ec_core", "ec_mock", "ec_cqg"):
        package = importlib.import_module(top)
        names.append(top)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
            if info.name.rsplit(".", 1)[-1] != "__main__":
                names.append(info.name)
    return names


def _subclasses(cls: type[BaseException]) -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    sub: type[BaseException]
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_the_drawn_tree_names_every_error_class_of_the_three_distributions() -> None:
    import importlib

    import ec_core.errors

    for name in _all_modules():
        importlib.import_module(name)
    ours = {
        c
        for c in _subclasses(ec_core.errors.EcError)
        if c.__module__.split(".")[0] in {"ec_core", "ec_mock", "ec_cqg"}
    }
    drawing = ec_core.errors.__doc__ or ""
    missing = sorted(
        c.__qualname__ for c in ours if not re.search(rf"\b{c.__qualname__}\b", drawing)
    )
    assert missing == [], f"draw these in ec_core.errors' docstring: {missing}"
    assert "EcError" in drawing


def test_no_bare_ec_error_is_raised_in_the_sources() -> None:
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    bare: list[str] = []
    for path in sorted(root.glob("ec_*/src/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name)
                and node.exc.func.id == "EcError"
            ):
                bare.append(f"{path.relative_to(root)}:{node.lineno}")
    assert bare == [], f"raise a named subclass instead of EcError: {bare}"
