"""Snapshot and restore: the whole exchange as an :class:`ExchangeState` and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from ec_core.clock import Clock

from ec_mock.engine.amend import AmendLayer
from ec_mock.engine.core import (
    _EVENT_EXPIRE,
)
from ec_mock.engine.listener import OrderFaults
from ec_mock.engine.models import FillModel, LatencyModel
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.settlement import ClosingRange
from ec_mock.engine.state import (
    AccountSnapshot,
    ExchangeState,
    OrderSnapshot,
    PositionSnapshot,
)
from ec_mock.instruments import ProductRules


class SnapshotLayer(AmendLayer):
    """Saves the exchange as a serialisable state and builds one from it."""

    # ------------------------------------------------------------------ snapshot / restore
    def snapshot(self) -> ExchangeState:
        """Everything needed to restart the exchange where it stands (not in-flight requests)."""
        cl_ids: dict[int, list[str]] = {}
        for ids in self._ids.values():
            for cl, order in ids.items():
                cl_ids.setdefault(order.oid, []).append(cl)
        orders = tuple(
            OrderSnapshot(
                oid=o.oid,
                account_id=o.account_id,
                symbol=o.symbol,
                side=o.side,
                qty=o.qty,
                filled=o.filled,
                cost=o.cost,
                order_type=o.order_type,
                price=o.price,
                stop=o.stop,
                duration=o.duration,
                gtd=o.gtd,
                aon=o.aon,
                exec_instructions=o.exec_instructions,
                cl_order_id=o.cl_order_id,
                orig_cl_order_id=o.orig_cl_order_id,
                chain_id=o.chain_id,
                state=o.state,
                seq=o.seq,
                resting=o.resting,
                triggered=o.triggered,
                waiting_aon=o in self._books[o.symbol].aon,
                expire_ns=o.expire_ns,
                created_ns=o.created_ns,
                updated_ns=o.updated_ns,
                cl_ids=tuple(cl_ids.get(o.oid, ())),
                display=o.display,
                shown=o.shown,
                min_qty=o.min_qty,
                smp=o.smp,
            )
            for o in self._all_orders()
        )
        accounts = tuple(
            AccountSnapshot(
                account_id=a.account_id,
                name=a.name,
                currency=a.currency,
                initial_balance=a.initial_balance,
                cash=a.cash,
                commission_per_contract=a.commission_per_contract,
                commission_per_order=a.commission_per_order,
                commissions=a.commissions,
                unlimited=a.unlimited,
                positions=tuple(
                    PositionSnapshot(
                        symbol=p.symbol,
                        lots=tuple((lot[0], lot[1]) for lot in p.lots),
                        realized=p.realized,
                        volume=p.volume,
                        settle_price=p.settle_price,
                        pre_qty=p.pre_qty,
                        variation=p.variation,
                        banked=p.banked,
                    )
                    for p in a.positions.values()
                ),
                rejected=tuple(self._rejected[a.account_id].values()),
                liquidate_on_margin_call=a.liquidate_on_margin_call,
                variation_log=tuple(a.variation_log),
                smp=a.smp,
                retire_final_orders=a.retire_final,
                keep_final_orders=a.keep_final,
            )
            for a in self._accounts.values()
        )
        version, internal, gauss = self.rng.getstate()
        return ExchangeState(
            ts_ns=self._now(),
            seed=self.seed,
            instruments=tuple(self._instruments.values()),
            margins=dict(self._margins),
            accounts=accounts,
            orders=orders,
            marks=dict(self._marks),
            last_trades=tuple(t for t in map(self.last_trade, self._last) if t is not None),
            next_oid=self._next_oid,
            next_seq=self._next_seq,
            next_fill=self._next_fill,
            next_cl=self._next_cl,
            rng_state=(version, tuple(internal), gauss),
            maintenance_margins=dict(self._maintenance),
            settlements=tuple(s for day in self._settlements.values() for s in day),
            feed_settlements=dict(self._feed_settlements),
            closing_ranges={
                symbol: (c.start_ns, c.value, c.volume) for symbol, c in self._closing.items()
            },
            liquidations={symbol: dict(due) for symbol, due in self._liquidations.items()},
        )

    @classmethod
    def restore(
        cls,
        state: ExchangeState,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        enforce_sessions: bool = True,
        record: bool = True,
        faults: OrderFaults | None = None,
        products: Mapping[str, ProductRules] | None = None,
    ) -> Self:
        """A new exchange that carries on from ``state`` (books, accounts, orders, ids).

        Product rules are configuration, not state: ``products`` as for a new exchange.
        """
        exchange = cls(
            instruments=state.instruments,
            clock=clock,
            seed=state.seed,
            fill_model=fill_model,
            latency=latency,
            margins=state.margins,
            maintenance_margins=state.maintenance_margins,
            products=products,
            enforce_sessions=enforce_sessions,
            record=record,
            faults=faults,
        )
        exchange.rng.setstate((state.rng_state[0], tuple(state.rng_state[1]), state.rng_state[2]))
        for snap in state.accounts:
            exchange.open_account(
                snap.account_id,
                balance=snap.initial_balance,
                commission_per_contract=snap.commission_per_contract,
                commission_per_order=snap.commission_per_order,
                name=snap.name,
                currency=snap.currency,
                unlimited=snap.unlimited,
                liquidate_on_margin_call=snap.liquidate_on_margin_call,
                smp=snap.smp,
                retire_final_orders=snap.retire_final_orders,
                keep_final_orders=snap.keep_final_orders,
            )
            acct = exchange._accounts[snap.account_id]
            acct.variation_log.extend(snap.variation_log)
            acct.cash = snap.cash
            acct.commissions = snap.commissions
            for psnap in snap.positions:
                instrument = exchange._instruments[psnap.symbol]
                pos = acct.position(instrument, exchange.margin(psnap.symbol))
                for lot_qty, lot_price in psnap.lots:
                    pos.lots.append([lot_qty, lot_price])
                    pos.cost += lot_qty * lot_price
                    pos.qty += lot_qty
                pos.realized = psnap.realized
                pos.volume = psnap.volume
                pos.settle_price = psnap.settle_price
                pos.pre_qty = psnap.pre_qty
                pos.variation = psnap.variation
                pos.banked = psnap.banked
            for report in snap.rejected:
                exchange._rejected[snap.account_id][report.cl_order_id] = report
        resting: list[OrderRecord] = []
        for o in state.orders:
            # the engine's own snapshots hold every position an order was booked to
            order_pos = exchange._accounts[o.account_id].position(
                exchange._instruments[o.symbol], exchange.margin(o.symbol)
            )
            order = OrderRecord(
                oid=o.oid,
                account_id=o.account_id,
                symbol=o.symbol,
                side=o.side,
                qty=o.qty,
                order_type=o.order_type,
                price=o.price,
                stop=o.stop,
                duration=o.duration,
                gtd=o.gtd,
                aon=o.aon,
                cl_order_id=o.cl_order_id,
                ts_ns=o.created_ns,
                exec_instructions=o.exec_instructions,
                book=exchange._books[o.symbol],
            )
            order.pos = order_pos
            order.filled = o.filled
            order.cost = o.cost
            order.orig_cl_order_id = o.orig_cl_order_id
            order.chain_id = o.chain_id
            order.state = o.state
            order.seq = o.seq
            order.triggered = o.triggered
            order.expire_ns = o.expire_ns
            order.updated_ns = o.updated_ns
            order.display = o.display
            order.shown = o.shown  # book.rest keeps the slice that was on display
            order.min_qty = o.min_qty
            order.smp = o.smp
            for cl in o.cl_ids:
                exchange._ids[o.account_id][cl] = order
            if not o.cl_ids:
                exchange._unindexed.append(order)
            if not o.state.is_open:
                owner = order_pos.account
                if owner.keep_final:  # kept finished orders, oldest first: forgotten in turn
                    owner.final_kept[o.oid] = order
                continue
            exchange._open[o.account_id][o.oid] = order
            exchange._open_by_symbol[o.symbol][o.oid] = order
            order_pos.add_working(o.side, o.qty - o.filled)
            book = exchange._books[o.symbol]
            if o.resting:
                resting.append(order)
            elif o.waiting_aon:
                book.aon.append(order)
                exchange._armed.add(o.symbol)
            elif o.stop is not None and not o.triggered:
                book.add_stop(order)
                exchange._armed.add(o.symbol)
            if o.expire_ns:
                exchange._push(o.expire_ns, _EVENT_EXPIRE, order)
        for order in sorted(resting, key=lambda r: r.seq):
            exchange._books[order.symbol].rest(order, order.seq)
        for symbol, book in exchange._books.items():
            exchange._quotes[symbol] = book.touch()
        exchange._marks.update(state.marks)
        for acct in exchange._accounts.values():
            acct.recompute(exchange._marks)
            for pos in acct.positions.values():
                exchange._hold(pos)
        for trade in state.last_trades:
            exchange._last[trade.symbol] = (trade.ts_ns, trade.price, trade.size, trade.aggressor)
        for settlement in state.settlements:
            exchange._settlements.setdefault(settlement.symbol, []).append(settlement)
        exchange._settled_count = len(state.settlements)
        exchange._feed_settlements.update(state.feed_settlements)
        for symbol, (start_ns, value, volume) in state.closing_ranges.items():
            closing = exchange._closing[symbol] = ClosingRange(start_ns)
            closing.value, closing.volume = value, volume
        for symbol, due in state.liquidations.items():
            exchange._liquidations[symbol] = dict(due)
        exchange._next_oid = state.next_oid
        exchange._next_seq = max(state.next_seq, exchange._next_seq)
        exchange._next_fill = state.next_fill
        exchange._next_cl = state.next_cl
        return exchange
