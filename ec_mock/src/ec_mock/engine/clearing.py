"""Clearing: daily settlement, variation margin, maintenance margin and margin calls.

At the close of each trading day (sessions enforced) every instrument settles to a
price (``engine/settlement.py`` says which); every position in it is marked to that
price and the variation margin moves into the account's balance (CME Rules 813, 814;
``engine/ledger.py`` keeps the books). After the settlements due at one instant, each
account's equity (balance plus open P&L, a position valued at its settlement until a
trade after it) is compared with its maintenance margin (CME Rule 930): below it, a
:class:`~ec_core.model.MarginCall` is told, asking for the initial level; an account
opened with ``liquidate_on_margin_call`` is also flattened, at once if its market is
open, else at its next open.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from ec_core.model import AccountReport, MarginCall, PositionReport, RequestType

from ec_mock.engine.core import _EVENT_MARGIN
from ec_mock.engine.ledger import AccountLedger
from ec_mock.engine.settlement import (
    ClosingRange,
    Settlement,
    SettlementSource,
    VariationMargin,
    nearest_tick,
)
from ec_mock.engine.snapshot import SnapshotLayer

__all__ = ["ClearingLayer"]


class ClearingLayer(SnapshotLayer):
    """Settles each trading day and checks the accounts' margin (module docstring)."""

    # ------------------------------------------------------------------ queries
    def settlement(self, symbol: str) -> Settlement | None:
        """The latest settlement of ``symbol`` (``None``: never settled)."""
        settlements = self._settlements.get(symbol)
        return settlements[-1] if settlements else None

    @property
    def settled_count(self) -> int:
        """How many settlements the exchange made: a front end that publishes them polls
        this and reads :meth:`settlements` only when it moved."""
        return self._settled_count

    def settlements(self, symbol: str) -> list[Settlement]:
        """Every settlement of ``symbol``, oldest first."""
        return list(self._settlements.get(symbol, ()))

    def variation_margin(self, account_id: str) -> list[VariationMargin]:
        """What each settlement paid into (or took from) the account, oldest first."""
        return list(self._accounts[account_id].variation_log)

    # ------------------------------------------------------------------ feeding and settling
    def provide_settlement(self, symbol: str, price: Decimal) -> None:
        """The settlement price of the coming close (a settlement feed, in a replay).

        Raises ``ValueError`` for an unknown symbol or a price off the tick grid.
        """
        self._feed_settlements[symbol] = self._settlement_ticks(symbol, price)

    def settle(self, symbol: str, price: Decimal | None = None) -> Settlement:
        """Settle ``symbol`` now, at ``price`` or by the rule of ``engine/settlement.py``
        (an instrument without sessions, or a replay that drives its own days), then
        check the accounts' margin. Raises ``ValueError`` when there is no price at all."""
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        if price is not None:
            self._feed_settlements[symbol] = self._settlement_ticks(symbol, price)
        trade_date = self._calendars[symbol].trading_date(self._ts)
        settlement = self._settle_symbol(symbol, trade_date)
        if settlement is None:
            raise ValueError(f"{symbol}: nothing to settle to (no trade, no quote, no price)")
        self._check_margins(trade_date)
        if self._touched and (self._sinks or self._armed):
            self._settle()
        self._flush()
        return settlement

    def _settlement_ticks(self, symbol: str, price: Decimal) -> int:
        instrument = self._instruments.get(symbol)
        if instrument is None:
            raise ValueError(f"unknown instrument {symbol!r}")
        if not isinstance(price, Decimal) or not price.is_finite():
            raise ValueError(f"{symbol}: settlement price must be a finite Decimal, got {price!r}")
        try:
            ticks, rest = divmod(price, instrument.tick_size)
        except InvalidOperation:  # more digits than the context's precision
            raise ValueError(f"{symbol}: settlement price {price} is out of range") from None
        if rest:
            raise ValueError(
                f"{symbol}: settlement price {price} is not on the tick {instrument.tick_size}"
            )
        return int(ticks)

    def _on_trading_day_close(self, symbol: str) -> None:
        """The session just closed: if it ended a trading day, settle it (and check the
        margins once every settlement due now has run)."""
        calendar = self._calendars[symbol].calendar
        now = self._ts
        span = calendar.session_at(now - 1) if calendar is not None else None
        if span is None:
            return
        bounds = calendar.day_bounds(span.trading_day)  # type: ignore[union-attr]
        if bounds is None or bounds[1] != span.close_ns:
            return  # a break inside the trading day, not its end
        self._settle_symbol(symbol, span.trading_day, session_open_ns=span.open_ns)
        if not self._margin_check_due:
            self._margin_check_due = True
            self._push(now, _EVENT_MARGIN, span.trading_day)
        self._arm_closing_range(symbol)

    def _settlement_price(
        self, symbol: str, session_open_ns: int | None
    ) -> tuple[int, SettlementSource] | None:
        feed = self._feed_settlements.pop(symbol, None)
        if feed is not None:
            return feed, SettlementSource.FEED
        closing: ClosingRange | None = self._closing.get(symbol)
        vwap = closing.vwap() if closing is not None else None
        if vwap is not None:
            return vwap, SettlementSource.VWAP
        last = self._last.get(symbol)
        if last is not None and (session_open_ns is None or last[0] >= session_open_ns):
            return last[1], SettlementSource.LAST
        bid, _, ask, _ = self._books[symbol].touch()
        if bid is not None and ask is not None:
            return nearest_tick(bid + ask, 2), SettlementSource.MID
        previous = self.settlement(symbol)
        if previous is not None:
            return previous.ticks, SettlementSource.PREVIOUS
        if last is not None:
            return last[1], SettlementSource.LAST
        return None

    def _settle_symbol(
        self, symbol: str, trade_date: date, *, session_open_ns: int | None = None
    ) -> Settlement | None:
        found = self._settlement_price(symbol, session_open_ns)
        if found is None:
            return None
        ticks, source = found
        now = self._ts
        price = self._price(symbol, ticks)
        settlement = Settlement(
            symbol=symbol, trade_date=trade_date, price=price, ticks=ticks, source=source, ts_ns=now
        )
        self._settlements.setdefault(symbol, []).append(settlement)
        self._settled_count += 1
        marked = symbol in self._marks
        for acct in self._accounts.values():
            pos = acct.positions.get(symbol)
            if pos is None or (not pos.qty and pos.banked == pos.realized):
                continue  # nothing held and nothing closed since the last settlement
            day = pos.settle(ticks, marked)
            acct.variation_log.append(
                VariationMargin(
                    account_id=acct.account_id,
                    symbol=symbol,
                    trade_date=trade_date,
                    settlement_price=price,
                    qty=pos.qty,
                    amount=day * pos.tick_value,
                    ts_ns=now,
                )
            )
            if self._sinks:
                self._emit(PositionReport(position=pos.to_position(acct.account_id), ts_ns=now))
                self._emit(AccountReport(account=acct.to_account(self._marks), ts_ns=now))
        return settlement

    # ------------------------------------------------------------------ margin
    def _valuation(self, symbol: str) -> int | None:
        """The price a position is valued at for margin: its settlement, until a trade
        after it; the last trade otherwise."""
        settlement = self.settlement(symbol)
        last = self._last.get(symbol)
        if settlement is not None and (last is None or last[0] <= settlement.ts_ns):
            return settlement.ticks
        return self._marks.get(symbol)

    def _check_margins(self, trade_date: date) -> None:
        """Every account below its maintenance margin gets a margin call (CME Rule 930)."""
        self._margin_check_due = False
        now = self._ts
        for acct in self._accounts.values():
            if acct.unlimited:
                continue
            call = self._margin_call(acct, trade_date, now)
            if call is None:
                continue
            self._emit(call)
            if call.liquidating:
                self._liquidate_for_margin(acct, trade_date)

    def _margin_call(self, acct: AccountLedger, trade_date: date, now: int) -> MarginCall | None:
        equity = acct.cash
        maintenance = initial = Decimal(0)
        held = False
        for symbol, pos in acct.positions.items():
            if not pos.qty:
                continue
            held = True
            equity += pos.unrealized_ticks(self._valuation(symbol)) * pos.tick_value
            maintenance += self.maintenance_margin(symbol) * abs(pos.qty)
            initial += self.margin(symbol) * abs(pos.qty)
        if not held or equity >= maintenance:
            return None
        return MarginCall(
            account_id=acct.account_id,
            currency=acct.currency,
            equity=equity,
            maintenance_margin=maintenance,
            initial_margin=initial,
            call_amount=initial - equity,
            trade_date=trade_date,
            liquidating=acct.liquidate_on_margin_call,
            ts_ns=now,
        )

    def _liquidate_for_margin(self, acct: AccountLedger, trade_date: date) -> None:
        """Flatten what the account holds: now where the market is open, else at the open."""
        for symbol, pos in list(acct.positions.items()):
            if not pos.qty:
                continue
            if symbol in self._closed:
                self._liquidations.setdefault(symbol, {})[acct.account_id] = trade_date
            else:
                self._liquidate(
                    acct.account_id, symbol, f"margin-call-{trade_date}", RequestType.LIQUIDATE_ALL
                )

    def _run_liquidations(self, symbol: str) -> None:
        """The market of ``symbol`` opened: flatten the accounts waiting for it."""
        waiting = self._liquidations.pop(symbol, None)
        if not waiting:
            return
        for account_id, trade_date in waiting.items():
            pos = self._accounts[account_id].positions.get(symbol)
            if pos is not None and pos.qty:
                self._liquidate(
                    account_id, symbol, f"margin-call-{trade_date}", RequestType.LIQUIDATE_ALL
                )
