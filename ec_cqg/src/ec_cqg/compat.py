"""EC_API-style names over ec's CQG session, for users of the original EC_API README.

Thin and async like the rest of ec::

    async with ConnectCQG(
        "wss://demoapi.cqg.com:443", "user", "password",
        account_id=16883045, limits_file="limits.toml",
    ) as conn:
        order = CQGLiveOrder(conn, symbol_name="EP", request_id=100, account_id=16883045)
        await order.send(RequestType.NEW, {"cl_order_id": "1", "order_type": "LMT", ...})
        history = await MonitorTradeCQG(conn, 16883045).request_historical_orders(a, b)

``CQGLiveOrder.send`` turns the details dict into a typed core request; an unknown key, a
missing key or a bad value raises :class:`DetailsError` naming the key. Scaled prices
(``scaled_limit_price``) are converted with the contract's price scale; plain prices
(``limit_price``) are taken as decimals. ``CQGFormatCheck`` is the CQG field-rule policy
(``Payload(checks=(CQGFormatCheck.name,))``), also usable on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, final

import msgspec
from ec_core.clock import WallClock
from ec_core.errors import ConfigError, EcError, Violation
from ec_core.execution.payload import Payload
from ec_core.front import Trader, connect
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    RequestType,
    Side,
)
from ec_core.safety.rules import GoodThruDate
from ec_core.safety.shape import check_shape
from ec_core.secrets import Secret
from ec_core.settings import Settings
from ec_core.validation import PreTradeContext

from ec_cqg.rules import CqgFieldRules

if TYPE_CHECKING:
    from ec_cqg.client.session import CqgSession

__all__ = [
    "CQGFormatCheck",
    "CQGLiveOrder",
    "ConnectCQG",
    "DetailsError",
    "MonitorTradeCQG",
    "details_to_request",
]


@final
class DetailsError(EcError, ValueError):
    """A details dict cannot become an order request; ``key`` names the culprit."""

    def __init__(self, key: str, problem: str, *, value: object = None) -> None:
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"order details: {key!r} {problem}{shown}")
        self.key = key
        self.value = value


@final
class ConnectCQG:
    """``ConnectCQG(host, user, password, account_id=..., limits_file=...)``: a CQG session
    behind ec's front door (:func:`ec_core.connect`), as an async context manager.

    Orders sent through :class:`CQGLiveOrder` leave through the same executor as every
    other order of ec: pre-trade checks, the limits file (default deny: without one,
    connecting fails and names ``ec limits sample``), the journal if ``journal_path`` is
    given, tracking and reconciliation. Extra keyword options are ``[vendors.cqg]``
    settings (``allow_insecure``, timeouts…).
    """

    def __init__(
        self,
        host: str,
        user: str,
        password: str | Secret,
        *,
        account_id: int | str | None = None,
        limits_file: str | None = None,
        journal_path: str | None = None,
        **options: Any,
    ) -> None:
        secret = password if isinstance(password, Secret) else Secret(password)
        self._table: dict[str, Any] = {"url": host, "user": user, "password": secret, **options}
        self._settings = Settings(
            vendor="cqg",
            account_id="" if account_id is None else str(account_id),
            limits_file=limits_file,
            journal_path=journal_path,
        )
        self._stack: AsyncExitStack | None = None
        self.trader: Trader | None = None

    @property
    def session(self) -> CqgSession:
        """The CQG session under the front door."""
        from ec_cqg.client.session import CqgSession

        session = self.require_trader().session
        if not isinstance(session, CqgSession):
            raise ConfigError(f"ConnectCQG opened {type(session).__name__}, not a CQG session")
        return session

    def require_trader(self) -> Trader:
        """The front door this connection opened; a clear error before ``connect``."""
        if self.trader is None:
            raise ConfigError("ConnectCQG is not connected: use `async with ConnectCQG(...)`")
        return self.trader

    async def connect(self) -> ConnectCQG:
        stack = AsyncExitStack()
        try:
            self.trader = await stack.enter_async_context(
                connect(self._settings, vendor_settings=dict(self._table))
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def close(self) -> None:
        stack, self._stack, self.trader = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> ConnectCQG:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@final
class MonitorTradeCQG:
    """Order history and open orders of one account."""

    def __init__(self, conn: ConnectCQG, account_id: int | str) -> None:
        self.conn = conn
        self.account_id = str(account_id)

    async def request_historical_orders(
        self, from_date: datetime, to_date: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders active between the two UTC times (naive means UTC)."""
        return await self.conn.session.orders.historical_orders(self.account_id, from_date, to_date)

    async def open_orders(self) -> Sequence[ExecutionReport]:
        return await self.conn.session.orders.open_orders(self.account_id)


_REQUEST_TYPES: Final[Mapping[str, RequestType]] = {
    "NEW_ORDER": RequestType.NEW,
    "MODIFY_ORDER": RequestType.MODIFY,
    "CANCEL_ORDER": RequestType.CANCEL,
    "CANCEL_ALL_ORDERS": RequestType.CANCEL_ALL,
    "LIQUIDATE_ALL": RequestType.LIQUIDATE_ALL,
    "GO_FLAT": RequestType.GO_FLAT,
    **{t.value: t for t in RequestType},
}
_CQG_ORDER_TYPES: Final = {1: OrderType.MKT, 2: OrderType.LMT, 3: OrderType.STP, 4: OrderType.STL}
_CQG_SIDES: Final = {1: Side.BUY, 2: Side.SELL}
_CQG_DURATIONS: Final = {
    1: Duration.DAY,
    2: Duration.GTC,
    3: Duration.GTD,
    5: Duration.IOC,
    6: Duration.FOK,
}
_CQG_INSTRUCTIONS: Final = {
    1: ExecInstruction.AON,
    2: ExecInstruction.ICEBERG,
    8: ExecInstruction.POST_ONLY,
}
_KEYS: Final[Mapping[RequestType, frozenset[str]]] = {
    RequestType.NEW: frozenset(
        {
            "symbol_name",
            "cl_order_id",
            "order_type",
            "duration",
            "side",
            "qty",
            "qty_significant",
            "qty_exponent",
            "scaled_limit_price",
            "scaled_stop_price",
            "limit_price",
            "stop_price",
            "good_thru_date",
            "exec_instructions",
            "is_manual",
        }
    ),
    RequestType.MODIFY: frozenset(
        {
            "symbol_name",
            "orig_cl_order_id",
            "cl_order_id",
            "qty",
            "qty_significant",
            "qty_exponent",
            "scaled_limit_price",
            "scaled_stop_price",
            "limit_price",
            "stop_price",
            "duration",
            "good_thru_date",
        }
    ),
    RequestType.CANCEL: frozenset({"symbol_name", "orig_cl_order_id", "cl_order_id"}),
    RequestType.CANCEL_ALL: frozenset({"symbol_name", "cl_order_id"}),
    RequestType.LIQUIDATE_ALL: frozenset({"symbol_name", "cl_order_id"}),
    RequestType.GO_FLAT: frozenset({"cl_order_id"}),
}


_PREFIXES: Final = ("ORDER_TYPE_", "SIDE_", "DURATION_", "EXEC_INSTRUCTION_")
_ALIASES: Final = {"FAK": "IOC", "POSTONLY": "POST_ONLY"}


def _enum(key: str, value: object, enum: type[Any], cqg: Mapping[int, Any]) -> Any:
    """A core enum from itself, a CQG code, or a name (``"LMT"``, ``"ORDER_TYPE_LMT"``)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in cqg:
        return cqg[value]
    if isinstance(value, str):
        name = value.upper()
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        name = _ALIASES.get(name, name)
        if name in enum.__members__:
            return enum[name]
    raise DetailsError(key, f"must be one of {', '.join(enum.__members__)}", value=value)


def _request_type(value: RequestType | str) -> RequestType:
    if isinstance(value, RequestType):
        return value
    found = _REQUEST_TYPES.get(str(value).upper())
    if found is None:
        raise DetailsError(
            "request_type", f"must be one of {', '.join(_REQUEST_TYPES)}", value=value
        )
    return found


def _qty(details: Mapping[str, Any], *, required: bool) -> int | None:
    if "qty" in details:
        qty = details["qty"]
        if not isinstance(qty, int) or isinstance(qty, bool):
            raise DetailsError("qty", "must be a whole number", value=qty)
        return qty
    if "qty_significant" not in details:
        if required:
            raise DetailsError("qty", "is required (or qty_significant and qty_exponent)")
        return None
    significand, exponent = details["qty_significant"], details.get("qty_exponent", 0)
    if not isinstance(significand, int) or not isinstance(exponent, int) or exponent < 0:
        raise DetailsError("qty_significant", "must be whole (exponent >= 0)", value=significand)
    return int(significand * 10**exponent)


def _price(details: Mapping[str, Any], name: str, scale: Any) -> Decimal | None:
    scaled_key = f"scaled_{name}"
    if scaled_key in details:
        value = details[scaled_key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise DetailsError(scaled_key, "must be an integer", value=value)
        if scale is None:
            raise DetailsError(scaled_key, "needs a resolved contract (price scale)")
        return Decimal(scale.to_price(value))
    if name in details:
        value = details[name]
        try:
            return Decimal(str(value)) if not isinstance(value, Decimal) else value
        except ArithmeticError:
            raise DetailsError(name, "must be a decimal number", value=value) from None
    return None


def _good_thru(details: Mapping[str, Any]) -> date | None:
    value = details.get("good_thru_date")
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    raise DetailsError("good_thru_date", "must be a date or datetime", value=value)


def _str(details: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = details.get(key, "")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise DetailsError(key, "must be text", value=value)
    if required and not value:
        raise DetailsError(key, "is required")
    return str(value)


def details_to_request(
    request_type: RequestType | str,
    details: Mapping[str, Any],
    *,
    account_id: str,
    symbol: str = "",
    price_scale: Any = None,
) -> OrderRequest:
    """A typed core request from EC_API-style ``details``; :class:`DetailsError` names bad keys."""
    kind = _request_type(request_type)
    allowed = _KEYS[kind]
    for key in details:
        if key not in allowed:
            raise DetailsError(
                key, f"is not a {kind.value} detail (allowed: {', '.join(sorted(allowed))})"
            )
    symbol = _str(details, "symbol_name") or symbol
    cl = _str(details, "cl_order_id")
    if kind is RequestType.NEW:
        for key in ("order_type", "side"):
            if key not in details:
                raise DetailsError(key, "is required")
        instructions = details.get("exec_instructions", ())
        if not isinstance(instructions, Iterable) or isinstance(instructions, str):
            instructions = (instructions,)
        qty = _qty(details, required=True)
        assert qty is not None
        return NewOrder(
            account_id=account_id,
            symbol=symbol,
            side=_enum("side", details["side"], Side, _CQG_SIDES),
            qty=qty,
            order_type=_enum("order_type", details["order_type"], OrderType, _CQG_ORDER_TYPES),
            limit_price=_price(details, "limit_price", price_scale),
            stop_price=_price(details, "stop_price", price_scale),
            duration=_enum(
                "duration", details.get("duration", Duration.DAY), Duration, _CQG_DURATIONS
            ),
            good_thru_date=_good_thru(details),
            exec_instructions=frozenset(
                _enum("exec_instructions", i, ExecInstruction, _CQG_INSTRUCTIONS)
                for i in instructions
            ),
            cl_order_id=cl,
            is_manual=bool(details.get("is_manual", False)),
        )
    if kind is RequestType.MODIFY:
        duration = details.get("duration")
        return ModifyOrder(
            account_id=account_id,
            symbol=symbol,
            orig_cl_order_id=_str(details, "orig_cl_order_id", required=True),
            cl_order_id=cl,
            qty=_qty(details, required=False),
            limit_price=_price(details, "limit_price", price_scale),
            stop_price=_price(details, "stop_price", price_scale),
            duration=None
            if duration is None
            else _enum("duration", duration, Duration, _CQG_DURATIONS),
            good_thru_date=_good_thru(details),
        )
    if kind is RequestType.CANCEL:
        return CancelOrder(
            account_id=account_id,
            symbol=symbol,
            orig_cl_order_id=_str(details, "orig_cl_order_id", required=True),
            cl_order_id=cl,
        )
    if kind is RequestType.CANCEL_ALL:
        return CancelAll(account_id=account_id, symbol=symbol or None, cl_order_id=cl)
    if kind is RequestType.LIQUIDATE_ALL:
        return LiquidateAll(account_id=account_id, symbol=symbol or None, cl_order_id=cl)
    return GoFlat(account_id=account_id, cl_order_id=cl)


@final
class CQGLiveOrder:
    """One instrument's order entry in the EC_API style: ``await order.send(type, details)``."""

    def __init__(
        self, conn: ConnectCQG, *, symbol_name: str, request_id: int = 0, account_id: int | str
    ) -> None:
        self.conn = conn
        self.symbol_name = symbol_name
        self.request_id = request_id
        self.account_id = str(account_id)

    async def send(
        self, request_type: RequestType | str, request_details: Mapping[str, Any]
    ) -> OrderRequest:
        """Check the details, send the request through the executor (checks, limits,
        journal), return it with its ``cl_order_id``. A denied request raises
        :class:`~ec_core.errors.OrderDeniedError` and nothing is sent."""
        session = self.conn.session
        symbol = str(request_details.get("symbol_name", self.symbol_name))
        scale = None
        if symbol and any(k.startswith("scaled_") for k in request_details):
            await session.resolve(symbol)
            scale = session.price_scale(symbol)
        request = details_to_request(
            request_type,
            request_details,
            account_id=self.account_id,
            symbol=symbol,
            price_scale=scale,
        )
        order = await self.conn.require_trader().execute(request)  # the one choke point
        if order is not None and order.cl_order_id != request.cl_order_id:
            request = msgspec.structs.replace(request, cl_order_id=order.cl_order_id)
        return request


@final
class CQGFormatCheck:
    """The CQG field-rule policy: name it in ``Payload.checks`` or call it directly.

    On its own it must say all a CQG server would refuse, so it runs core's shape
    guards and good-through-date rule first, then the CQG rules (which check only
    what core does not).
    """

    name: Final = "cqg"

    def __init__(self) -> None:
        self._rules = (GoodThruDate(), CqgFieldRules())

    def validate(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        found = check_shape(request, context)
        for rule in self._rules:
            found.extend(rule.validate(request, context))
        return found

    def check(self, payload: Payload, *, now_ns: int | None = None) -> list[Violation]:
        """Every CQG field-rule violation of ``payload``'s request (empty: it passes)."""
        now = WallClock().now_ns() if now_ns is None else now_ns
        return self.validate(payload.request, PreTradeContext(now_ns=now, vendor="cqg"))
