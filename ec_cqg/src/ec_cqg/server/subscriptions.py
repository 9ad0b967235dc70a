"""Trade and market-data subscriptions: the status answer, then the snapshot.

:class:`SubscriptionDesk` records a session's subscription and returns the frames that
answer it (status first, snapshot after), so the connection sends them in order; the
live updates that follow are the server's fan-out (:mod:`.core`). A restored session gets
every snapshot again (:meth:`SubscriptionDesk.resend_snapshots`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from ec_cqg.protocol.pb import ServerMsg, market_data_2, trade_routing_2
from ec_cqg.server.accounts import AccountDirectory
from ec_cqg.server.daily import DAILY_LEVELS, DailySubscription, add_settlements, trading_day
from ec_cqg.server.market import MarketSubscription, effective_level, unsupported_level_text
from ec_cqg.server.orders import OrderChains
from ec_cqg.server.render import Renderer, day_start
from ec_cqg.server.sessions import Session, TradeSub

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["SubscriptionDesk"]

_TSS = trade_routing_2.TradeSubscriptionStatus
_SCOPE = trade_routing_2.TradeSubscription
_MDS = market_data_2.MarketDataSubscriptionStatus
_L4 = market_data_2.MarketDataSubscription.LEVEL_TRADES_BBA_DOM
_SUPPORTED_SCOPES = frozenset(
    {
        _SCOPE.SUBSCRIPTION_SCOPE_ORDERS,
        _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS,
        _SCOPE.SUBSCRIPTION_SCOPE_COLLATERAL,
        _SCOPE.SUBSCRIPTION_SCOPE_ACCOUNT_SUMMARY,
    }
)


def _trade_status(sub_id: int, code: int, text: str = "") -> ServerMsg:
    msg = ServerMsg()
    status = msg.trade_subscription_statuses.add(id=sub_id, status_code=code)
    if text:
        status.details.text = text
    return msg


def _md_status(
    request: market_data_2.MarketDataSubscription, code: int, level: int, text: str = ""
) -> ServerMsg:
    msg = ServerMsg()
    status = msg.market_data_subscription_statuses.add(
        contract_id=request.contract_id, status_code=code, level=level
    )
    if request.HasField("request_id"):
        status.request_id = request.request_id
    if text:
        status.details.text = text
    return msg


@final
class SubscriptionDesk:
    """Answers ``TradeSubscription`` and ``MarketDataSubscription`` requests."""

    def __init__(
        self,
        venue: MockVenue,
        accounts: AccountDirectory,
        chains: OrderChains,
        renderer: Renderer,
    ) -> None:
        self._venue = venue
        self._accounts = accounts
        self._chains = chains
        self._render = renderer
        # Symbols some session ever subscribed to at the DOM level: the fan-out walks the
        # sessions for DOM updates only for these (a superset: never shrinks), so a book
        # change nobody watches in depth costs one set lookup.
        self.depth_symbols: set[str] = set()

    # -- trade subscriptions ---------------------------------------------------------

    def trade(
        self, session: Session, request: trade_routing_2.TradeSubscription, *, now_ns: int
    ) -> list[ServerMsg]:
        if not request.subscribe:
            session.trade_subs.pop(request.id, None)
            return [_trade_status(request.id, _TSS.STATUS_CODE_SUCCESS)]
        scopes = frozenset(request.subscription_scopes)
        unsupported = scopes - _SUPPORTED_SCOPES
        if not scopes or unsupported:
            text = (
                f"unsupported subscription scopes {sorted(unsupported)}" if scopes else "no scope"
            )
            return [_trade_status(request.id, _TSS.STATUS_CODE_FAILURE, text)]
        accounts = self._accounts.names_within(session.accounts, request.account_ids)
        if accounts is None:
            return [
                _trade_status(
                    request.id,
                    _TSS.STATUS_CODE_INVALID_PUBLICATION_ID,
                    f"unknown account_ids {list(request.account_ids)}",
                )
            ]
        fields = frozenset(request.account_summary_parameters.requested_fields)
        sub = TradeSub(
            id=request.id, scopes=scopes, accounts=frozenset(accounts), summary_fields=fields
        )
        session.trade_subs[sub.id] = sub
        snapshot = self.trade_snapshot(
            session, sub, skip_orders=request.skip_orders_snapshot, now_ns=now_ns
        )
        return [_trade_status(sub.id, _TSS.STATUS_CODE_SUCCESS), snapshot]

    def trade_snapshot(
        self, session: Session, sub: TradeSub, *, skip_orders: bool, now_ns: int
    ) -> ServerMsg:
        exchange = self._venue.exchange
        render = self._render
        msg = ServerMsg()
        for account in sorted(sub.accounts):
            if _SCOPE.SUBSCRIPTION_SCOPE_ORDERS in sub.scopes and not skip_orders:
                for report in exchange.historical_orders(account, day_start(now_ns), now_ns):
                    plan = self._chains.plan_snapshot(report)
                    msg.order_statuses.append(render.order_status(session, plan, [sub.id]))
            if _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS in sub.scopes:
                for position in exchange.positions(account):
                    if position.qty:
                        msg.position_statuses.append(
                            render.position_status(
                                session, position, [sub.id], now_ns=now_ns, is_snapshot=True
                            )
                        )
            balances = render.account_statuses(
                session, account, sub, now_ns=now_ns, is_snapshot=True
            )
            if balances is not None:
                msg.MergeFrom(balances)
        msg.trade_snapshot_completions.add(
            subscription_id=sub.id, subscription_scopes=sorted(sub.scopes)
        )
        return msg

    # -- market data -----------------------------------------------------------------

    def market(
        self, session: Session, request: market_data_2.MarketDataSubscription, *, now_ns: int
    ) -> list[ServerMsg]:
        symbol = session.contracts.symbol_of(request.contract_id)
        instrument = self._venue.exchange.instrument(symbol) if symbol else None
        if instrument is None:
            return [
                _md_status(
                    request,
                    _MDS.STATUS_CODE_INVALID_PARAMS,
                    0,
                    f"contract_id {request.contract_id} was not resolved in this session",
                )
            ]
        # one subscription per contract: a new level replaces the one before
        session.market.pop(request.contract_id, None)
        session.daily.pop(request.contract_id, None)
        if request.level == 0:
            return [_md_status(request, _MDS.STATUS_CODE_SUCCESS, 0)]
        request_id = request.request_id if request.HasField("request_id") else None
        if request.level in DAILY_LEVELS:
            daily = DailySubscription(
                contract_id=request.contract_id,
                instrument=instrument,
                level=request.level,
                request_id=request_id,
            )
            session.daily[daily.contract_id] = daily
            msg = ServerMsg()
            msg.real_time_market_data.append(
                daily.snapshot(self._venue.exchange, self._venue.tape, session.base, now_ns)
            )
            return [_md_status(request, _MDS.STATUS_CODE_SUCCESS, request.level), msg]
        level = effective_level(request.level)
        if level is None:
            return [
                _md_status(
                    request,
                    _MDS.STATUS_CODE_NOT_SUPPORTED,
                    0,
                    unsupported_level_text(request.level),
                )
            ]
        sub = MarketSubscription(
            contract_id=request.contract_id,
            instrument=instrument,
            level=level,
            request_id=request_id,
        )
        session.market[sub.contract_id] = sub
        if level >= _L4:
            self.depth_symbols.add(instrument.symbol)
        return [
            _md_status(request, _MDS.STATUS_CODE_SUCCESS, level),
            self.market_snapshot(session, sub, now_ns=now_ns),
        ]

    def market_snapshot(
        self, session: Session, sub: MarketSubscription, *, now_ns: int
    ) -> ServerMsg:
        exchange = self._venue.exchange
        symbol = sub.instrument.symbol
        data = sub.snapshot(
            quote=exchange.best_quote(symbol),
            trade=exchange.last_trade(symbol),
            depth=self._render.depth(symbol) if sub.level >= 4 else None,
            base=session.base,
            now_ns=now_ns,
        )
        day, _start = trading_day(sub.instrument, now_ns)
        add_settlements(data.market_values[0], sub.prices, exchange.settlements(symbol), day)
        msg = ServerMsg()
        msg.real_time_market_data.append(data)
        return msg

    def resend_snapshots(self, session: Session, *, now_ns: int) -> list[ServerMsg]:
        """Every snapshot of ``session`` again (after a restore), trades first."""
        trades = [
            self.trade_snapshot(session, sub, skip_orders=False, now_ns=now_ns)
            for sub in list(session.trade_subs.values())
        ]
        markets = [
            self.market_snapshot(session, sub, now_ns=now_ns)
            for sub in list(session.market.values())
        ]
        for daily in list(session.daily.values()):
            msg = ServerMsg()
            msg.real_time_market_data.append(
                daily.snapshot(self._venue.exchange, self._venue.tape, session.base, now_ns)
            )
            markets.append(msg)
        return trades + markets
