"""Rendering engine state as a session sees it: order, position and balance statuses.

A status names the session's own contract ids and subscription ids, and the first
mention of a contract in a session carries its metadata; everything else comes from the
engine. :class:`Renderer` is shared by the live fan-out (:mod:`.core`), the trade
snapshots (:mod:`.subscriptions`) and the information answers (:mod:`.information`), so
a status looks the same whichever path sent it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, final

from ec_core.model import BookDepth, Position

from ec_cqg.protocol.pb import ServerMsg, order_2, trade_routing_2
from ec_cqg.protocol.prices import qty_to_cqg
from ec_cqg.protocol.timestamps import ns_to_timestamp
from ec_cqg.server.accounts import AccountDirectory
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.contracts import contract_metadata
from ec_cqg.server.orders import StatusPlan, render_status
from ec_cqg.server.sessions import Session, TradeSub

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["NS_PER_DAY", "Renderer", "day_start"]

NS_PER_DAY = 86_400_000_000_000
_SCOPE = trade_routing_2.TradeSubscription
# AccountSummaryStatus fields the mock can fill (field numbers, as requested_fields uses)
SUMMARY_FIELDS = frozenset({6, 8, 9, 15, 16, 17, 18, 29})


def day_start(ns: int) -> int:
    """Midnight UTC of the day holding ``ns`` (the trade date the mock reports)."""
    return ns - ns % NS_PER_DAY


@final
class Renderer:
    """Turns engine reports into the statuses one session receives."""

    def __init__(self, venue: MockVenue, accounts: AccountDirectory, config: ServerConfig) -> None:
        self._venue = venue
        self._accounts = accounts
        self._config = config

    def depth(self, symbol: str) -> BookDepth | None:
        """The top ``dom_depth`` levels of ``symbol``: the engine's one depth of the book
        (built once per change of the book at the default 10 levels)."""
        return self._venue.exchange.book_depth(symbol, self._config.dom_depth)

    def metadata(self, session: Session, contract_id: int) -> Any:
        symbol = session.contracts.symbol_of(contract_id)
        assert symbol is not None
        instrument = self._venue.exchange.instrument(symbol)
        assert instrument is not None
        return contract_metadata(
            instrument, contract_id, session_info_id=contract_id, base=session.base
        )

    def order_status(
        self, session: Session, plan: StatusPlan, subscription_ids: list[int] | None
    ) -> order_2.OrderStatus:
        """``plan`` as ``session`` sees it; first mention of a contract carries its metadata."""
        instrument = self._venue.exchange.instrument(plan.report.symbol)
        assert instrument is not None
        contract_id = session.contracts.id_of(instrument.symbol)
        status = render_status(
            plan,
            instrument=instrument,
            contract_id=contract_id,
            base=session.base,
            subscription_ids=subscription_ids,
            is_snapshot=not plan.transactions,
        )
        if session.contracts.announce(contract_id):
            status.contract_metadata.append(self.metadata(session, contract_id))
        return status

    def position_status(
        self,
        session: Session,
        position: Position,
        ids: list[int],
        *,
        now_ns: int,
        is_snapshot: bool = False,
    ) -> trade_routing_2.PositionStatus:
        contract_id = session.contracts.id_of(position.symbol)
        status = trade_routing_2.PositionStatus(
            account_id=self._accounts.id_of(position.account_id),
            contract_id=contract_id,
            is_short_open_position=position.qty < 0,
        )
        status.subscription_ids.extend(ids)
        if is_snapshot:
            status.is_snapshot = True
        day = session.base.to_offset_ms(day_start(now_ns))
        row = status.open_positions.add(
            id=1,
            price_correct=float(position.avg_price),
            trade_date=day,
            statement_date=day,
            is_aggregated=True,
            is_short=position.qty < 0,
        )
        ns_to_timestamp(now_ns, row.trade_utc_timestamp)
        qty_to_cqg(abs(position.qty), row.qty)  # 0: the position was closed
        status.purchase_and_sales_groups.add(
            id=1, realized_profit_loss=float(position.realized_pnl)
        )
        if session.contracts.announce(contract_id):
            status.contract_metadata.CopyFrom(self.metadata(session, contract_id))
        return status

    def account_statuses(
        self,
        session: Session,
        account: str,
        only: TradeSub | None,
        *,
        now_ns: int,
        is_snapshot: bool,
    ) -> ServerMsg | None:
        """Collateral and account-summary statuses of ``account`` for the subscriptions
        covering it (just ``only`` for a snapshot); ``None`` when nobody subscribed."""
        subs = [only] if only is not None else list(session.trade_subs.values())
        collateral = [
            s.id
            for s in subs
            if _SCOPE.SUBSCRIPTION_SCOPE_COLLATERAL in s.scopes and account in s.accounts
        ]
        summary = [
            s
            for s in subs
            if _SCOPE.SUBSCRIPTION_SCOPE_ACCOUNT_SUMMARY in s.scopes and account in s.accounts
        ]
        if not collateral and not summary:
            return None
        exchange = self._venue.exchange
        state = exchange.account(account)
        ote = exchange.unrealized_pnl(account)
        margin = max(state.balance + ote - state.buying_power, Decimal(0))
        account_id = self._accounts.id_of(account)
        msg = ServerMsg()
        if collateral:
            status = msg.collateral_statuses.add(
                account_id=account_id,
                currency=state.currency,
                total_margin=float(margin),
                purchasing_power=float(state.buying_power),
                ote=float(ote),
                mvo=0.0,
            )
            status.subscription_ids.extend(collateral)
            if is_snapshot:
                status.is_snapshot = True
            ns_to_timestamp(now_ns, status.status_utc_timestamp)
        values = {
            6: float(margin),
            8: float(state.buying_power),
            9: float(ote),
            15: float(state.balance),
            16: float(ote),
            17: float(ote),
            18: float(state.balance),
            29: len(exchange.open_orders(account)),
        }
        by_fields: dict[frozenset[int], list[int]] = {}
        for sub in summary:
            by_fields.setdefault(sub.summary_fields, []).append(sub.id)
        for wanted, ids in by_fields.items():
            summary_status = msg.account_summary_statuses.add(
                account_id=account_id, currency=state.currency
            )
            summary_status.subscription_ids.extend(ids)
            if is_snapshot:
                summary_status.is_snapshot = True
            descriptor = summary_status.DESCRIPTOR
            for number in sorted(wanted or SUMMARY_FIELDS):
                if number in values:
                    name = descriptor.fields_by_number[number].name
                    setattr(summary_status, name, values[number])
        return msg
