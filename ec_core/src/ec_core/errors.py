"""The one exception tree of ec.

Every error raised on purpose by ec or a plugin derives from :class:`EcError`, so
``except EcError`` catches them all. Each class names one kind of failure; the
values involved travel as attributes, not only in the message.

Three outcomes of an order attempt are kept apart on purpose:
*denied* (refused in this process, nothing was sent), *rejected* (the venue said
no) and *unknown* (we cannot tell yet: timeout, disconnect). See ``docs/outcomes.md``.

::

    EcError
    ├── ConfigError                  bad settings file or value
    ├── PluginError                  a plugin could not be loaded or is malformed
    │   ├── VendorNotFoundError      no installed plugin provides the vendor asked for
    │   └── AmbiguousVendorError     two distributions provide it: choose one as "dist:name"
    ├── SessionError                 anything about a vendor session
    │   ├── ConnectionLostError      the transport went away; pending requests fail with it
    │   ├── SymbolNotFoundError      ``resolve`` of a symbol the venue does not list (any vendor)
    │   ├── AuthError                logon refused (bad password, no rights, version …)
    │   ├── ProtocolError            the peer sent something that breaks the protocol
    │   ├── GatewayUnavailableError  Redis (the gateway's transport) cannot be reached
    │   └── HistoryError             a history request the venue does not serve
    │       ├── HistoryRequestError      bad arguments (range, timeframe): nothing was asked
    │       ├── HistoryTooFarBackError   start is before the venue's history horizon
    │       ├── HistoryNotEntitledError  this logon may not see the instrument's history
    │       └── HistoryRateLimitError    too many requests: retry later
    ├── PriceError                   a price is off the tick grid or not representable
    ├── PnlUnknownError              P&L of a symbol whose multiplier is unknown (not in money)
    ├── PayloadStateError            a Payload used out of its lifecycle (executed twice …)
    ├── VoidRefusedError             a void of an order that is not open, or without a reason
    ├── IllegalTransitionError       an order state change the state machine forbids
    ├── OrderError                   outcome of an order attempt
    │   ├── OrderDeniedError         denied here: carries every violation; nothing was sent
    │   ├── OrderRejectedError       rejected by the venue: carries its code and text
    │   ├── OrderNotSentError        not sent (window closed, connection or journal down)
    │   └── OrderUnknownError        fate unknown (timeout, disconnect): will be reconciled
    │       └── RequestTimeoutError  no answer within the request's deadline
    ├── JournalError                 the journal cannot be written: new orders stop (fail closed)
    │   └── JournalIntegrityError    the journal lost or changed records: not traded from
    └── RecordNotEncodable           a journal record cannot be encoded: that order is denied

Defined beside the code that raises them (each derives from a class above; a test keeps
this list complete for ec-core, ec-mock and ec-cqg)::

    ConfigError
    └── StrategyLoadError            ec_core.strategy.loader: a strategy file cannot be loaded
    EcError
    ├── NoDataError                  ec_core.data.errors: no bar/tick yet (a LookupError)
    ├── NoTradeStreamError           ec_core.execution.venue_unknown: a wait no consumer serves
    ├── StrategyError                ec_core.strategy.errors: a strategy asked the impossible
    ├── InvalidTreeError             ec_core.strategy.errors: a tree cannot run (a ValueError)
    ├── ConformanceOverrideError     ec_core.testing.conformance.guard: a kit test overridden
    ├── DetailsError                 ec_cqg.compat: EC_API-style details that are no order
    ├── DuplicateRequestError        ec_cqg.protocol.correlation_events: a request id reused
    └── WireError                    ec_core.gateway.wire: a stream entry of another wire version
    SessionError
    ├── VenueError                   ec_mock.vendor.venue: the venue refused a control call
    ├── TradeBufferOverflowError     ec_mock.vendor.channels: a trade subscriber fell behind
    └── GatewayRefusedError          ec_core.gateway.wire: ec gateway refused a worker's hello

``ConformanceViolation`` (the kit's failure) is an ``AssertionError`` on purpose, so pytest
reports it as a failed test rather than an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import final

import msgspec

__all__ = [
    "AmbiguousVendorError",
    "AuthError",
    "ConfigError",
    "ConnectionLostError",
    "EcError",
    "GatewayUnavailableError",
    "HistoryError",
    "HistoryNotEntitledError",
    "HistoryRateLimitError",
    "HistoryRequestError",
    "HistoryTooFarBackError",
    "IllegalTransitionError",
    "JournalError",
    "JournalIntegrityError",
    "OrderDeniedError",
    "OrderError",
    "OrderNotSentError",
    "OrderRejectedError",
    "OrderUnknownError",
    "PayloadStateError",
    "PluginError",
    "PnlUnknownError",
    "PriceError",
    "ProtocolError",
    "RequestTimeoutError",
    "SessionError",
    "SymbolNotFoundError",
    "VendorNotFoundError",
    "Violation",
    "VoidRefusedError",
]


class EcError(Exception):
    """Root of every error ec raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # The subclasses take keyword-only values, which the default Exception pickling
        # (``cls(*args)``) cannot pass back. Rebuild from args and attributes instead, so
        # errors survive a process boundary (``anyio.to_process``, a journal, a queue).
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[EcError], args: tuple[object, ...], state: dict[str, object]) -> EcError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(EcError):
    """A settings file or value is invalid.

    ``path`` names the key (``vendors.cqg.password``) when known, ``file`` the
    settings file it came from.
    """

    def __init__(self, message: str, *, path: str | None = None, file: str | None = None) -> None:
        where = ": ".join(part for part in (file, path) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.path = path
        self.file = file


class PluginError(EcError):
    """A plugin failed to load, or implements a hook wrongly."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


@final
class VendorNotFoundError(PluginError):
    """The vendor asked for is not provided by any installed plugin."""

    def __init__(self, vendor: str, *, installed: Iterable[str], hint: str | None = None) -> None:
        self.vendor = vendor
        self.installed = tuple(sorted(installed))
        listed = ", ".join(self.installed) or "none"
        message = f"vendor {vendor!r} is not installed (installed vendors: {listed})"
        if hint:
            message += f"; {hint}"
        super().__init__(message, plugin=vendor)


@final
class AmbiguousVendorError(PluginError):
    """Several distributions register the vendor name asked for; none is picked silently."""

    def __init__(self, vendor: str, *, distributions: Iterable[str]) -> None:
        self.vendor = vendor
        self.distributions = tuple(sorted(distributions))
        choices = " or ".join(f'vendor = "{d}:{vendor}"' for d in self.distributions)
        super().__init__(
            f"vendor {vendor!r} is registered by {', '.join(self.distributions)};"
            f" choose one in the settings file: {choices}",
            plugin=vendor,
        )


class SessionError(EcError):
    """Something went wrong with a vendor session."""


@final
class ConnectionLostError(SessionError):
    """The connection dropped; requests still pending fail with this error."""


class GatewayUnavailableError(SessionError):
    """Redis, between a worker and ``ec gateway``, cannot be reached (down, partitioned,
    refused the logon). The gateway keeps the broker session and its safety state; a
    worker's client reconnects, and an intent whose answer it did not get is still
    answered once the gateway reads it (see ``docs/guides/scale-out.md``)."""


class SymbolNotFoundError(SessionError, LookupError):
    """``resolve`` of a symbol the venue does not list: one class for every vendor.

    ``code`` is the venue's (a status number or a reject code), ``known`` the symbols
    the venue does list when it can say. Vendors raise it as is (subclassing is kept
    possible only for old names kept as deprecated aliases).
    """

    def __init__(
        self,
        symbol: str,
        *,
        code: int | str | None = None,
        text: str = "",
        known: Iterable[str] | None = None,
    ) -> None:
        self.symbol = symbol
        self.code = code
        self.text = text
        self.known = tuple(sorted(known)) if known is not None else ()
        message = f"symbol {symbol!r} is not listed by the venue"
        if code is not None:
            message += f" (code {code})"
        if text:
            message += f": {text}"
        if known is not None:
            message += f" (listed: {', '.join(self.known) or 'none'})"
        super().__init__(message)


@final
class AuthError(SessionError):
    """The venue refused the logon. ``code`` is the venue's result code."""

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        super().__init__(message if code is None else f"{message} (code {code})")
        self.code = code


@final
class ProtocolError(SessionError):
    """The peer broke the protocol (bad frame, impossible reply)."""


class HistoryError(SessionError):
    """A history request (bars, ticks) the venue does not serve. ``symbol`` names the
    instrument; ``code`` is the venue's status code when it gave one."""

    def __init__(self, message: str, *, symbol: str, code: int | str | None = None) -> None:
        super().__init__(message if code is None else f"{message} (code {code})")
        self.symbol = symbol
        self.code = code


@final
class HistoryRequestError(HistoryError, ValueError):
    """The request itself is invalid (``field`` and ``rule``); nothing was sent."""

    def __init__(self, message: str, *, symbol: str, field: str, value: object = None) -> None:
        super().__init__(f"{symbol}: {field}: {message}", symbol=symbol)
        self.field = field
        self.value = value


@final
class HistoryTooFarBackError(HistoryError):
    """``start_ns`` is before ``horizon_ns``, the oldest instant the venue serves
    (``None`` when the venue does not say)."""

    def __init__(
        self,
        *,
        symbol: str,
        start_ns: int,
        horizon_ns: int | None,
        code: int | str | None = None,
        text: str = "",
    ) -> None:
        where = (
            f"the venue serves history from {horizon_ns} ns on"
            if horizon_ns is not None
            else f"the venue serves less history{': ' + text if text else ''}"
        )
        super().__init__(
            f"{symbol}: history start {start_ns} ns is too far back: {where};"
            " ask for a later start",
            symbol=symbol,
            code=code,
        )
        self.start_ns = start_ns
        self.horizon_ns = horizon_ns


@final
class HistoryNotEntitledError(HistoryError):
    """This logon is not entitled to the instrument's history."""


@final
class HistoryRateLimitError(HistoryError):
    """Too many history requests; ``retry_after`` (seconds) when the venue says."""

    def __init__(
        self,
        message: str,
        *,
        symbol: str,
        code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, symbol=symbol, code=code)
        self.retry_after = retry_after


@final
class PriceError(EcError, ValueError):
    """A price cannot be expressed on an instrument's tick grid."""

    def __init__(self, message: str, *, price: object, tick_size: object) -> None:
        super().__init__(message)
        self.price = price
        self.tick_size = tick_size


@final
class PnlUnknownError(EcError):
    """P&L in money asked of fills whose instrument (its multiplier) is not known here:
    summed, they would be in price points, not money. ``symbols`` are those; the tracker
    prices them (points x multiplier) as soon as their instrument is known."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = tuple(sorted(symbols))
        super().__init__(
            f"P&L unknown: the instrument (multiplier) of {', '.join(self.symbols)} is not"
            " known here, its fills are booked in price points (an order placed elsewhere"
            " on the account?); learn it (a trader: await trader.instrument(symbol); a"
            " gateway worker asks the gateway by itself) and ask again"
        )


class PayloadStateError(EcError):
    """A :class:`~ec_core.execution.Payload` used out of its lifecycle.

    A payload is executed once: executing it again, or moving its status backwards, is a
    programming error in the caller. Nothing is sent. ``request_id`` names the payload.
    """

    def __init__(self, message: str, *, request_id: int) -> None:
        super().__init__(message)
        self.request_id = request_id


@final
class VoidRefusedError(EcError):
    """A void (closing an order locally as VOIDED) was refused; nothing was journaled.

    ``order_id`` is the id asked for; the message starts with ``VOID_REFUSED`` and says why
    (not an open order, or no reason given).
    """

    def __init__(self, message: str, *, order_id: str) -> None:
        super().__init__(f"VOID_REFUSED: {message}")
        self.order_id = order_id


@final
class IllegalTransitionError(EcError):
    """An order state change that the transition table forbids."""

    def __init__(self, source: object, target: object) -> None:
        super().__init__(f"illegal order state transition {source} -> {target}")
        self.source = source
        self.target = target


class Violation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One broken pre-trade rule: a stable ``code``, the ``field`` and the values involved."""

    code: str
    field: str
    rule: str
    value: object = None
    limit: object = None

    def __post_init__(self) -> None:
        # A ``Code`` member and the equal plain string must be one value (``codes``, JSON,
        # comparisons by type): keep the code as a plain ``str`` whatever was passed.
        if type(self.code) is not str:
            msgspec.structs.force_setattr(self, "code", str(self.code))

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.field} {self.rule}"]
        if self.value is not None:
            parts.append(f"value={self.value}")
        if self.limit is not None:
            parts.append(f"limit={self.limit}")
        return " ".join(parts)


class OrderError(EcError):
    """The outcome of an order attempt that did not succeed."""


@final
class OrderDeniedError(OrderError):
    """Denied in this process by pre-trade checks. Nothing was sent."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        lines = "; ".join(str(v) for v in self.violations)
        super().__init__(f"order denied ({len(self.violations)} violation(s)): {lines}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.violations)  # plain str: Violation normalises


@final
class OrderRejectedError(OrderError):
    """The venue refused the request. ``code`` and ``text`` are the venue's."""

    def __init__(
        self,
        text: str,
        *,
        code: int | str | None = None,
        cl_order_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        order = f"order {cl_order_id}" if cl_order_id else "order"
        suffix = f" (code {code})" if code is not None else ""
        super().__init__(f"{order} rejected by venue: {text}{suffix}")
        self.text = text
        self.code = code
        self.cl_order_id = cl_order_id
        self.details = dict(details or {})


@final
class OrderNotSentError(OrderError):
    """Nothing left: the request's window closed, or the connection or the journal was down
    before the send (what ``ec gateway`` answers ``NOT_SENT``). ``code`` says which; sending
    the same request again is safe."""

    def __init__(self, message: str, *, code: str = "", cl_order_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.cl_order_id = cl_order_id


class OrderUnknownError(OrderError):
    """We cannot tell what happened to the order yet; it stays tracked as UNKNOWN."""

    def __init__(self, message: str, *, cl_order_id: str | None = None) -> None:
        super().__init__(message)
        self.cl_order_id = cl_order_id


@final
class RequestTimeoutError(OrderUnknownError):
    """No answer within the deadline. The order is UNKNOWN until reconciled."""

    def __init__(self, *, cl_order_id: str | None = None, timeout: float) -> None:
        order = f"order {cl_order_id}" if cl_order_id else "the request"
        super().__init__(f"no answer for {order} within {timeout}s", cl_order_id=cl_order_id)
        self.timeout = timeout


class JournalError(EcError):
    """The journal could not be written; the executor stops accepting orders."""


@final
class JournalIntegrityError(JournalError):
    """Opening a journal found records lost or changed (or it is empty where one was
    expected). ``problems`` says what, one item each; nothing trades from it until an
    operator accepts the loss (``Journal(path, accept_loss=True)``)."""

    code = "JOURNAL_INTEGRITY"

    def __init__(self, path: str | os.PathLike[str], problems: Iterable[str]) -> None:
        self.path = os.fspath(path)
        self.problems = tuple(problems)
        super().__init__(
            f"{self.code}: journal {os.path.basename(self.path)} is not whole: "
            + "; ".join(self.problems)
            + ". Reconcile with the venue, then open it with accept_loss=True (ec run"
            " --accept-journal-loss) to trade on, or restore the journal with its -wal and"
            " .head files from a backup"
        )
