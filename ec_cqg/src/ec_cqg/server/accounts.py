"""Venue accounts as CQG numeric account ids, and the accounts report.

The engine names accounts with strings (``MOCK-1``); CQG uses ``sint32`` ids. The
directory numbers accounts in the order it first sees them and never reuses a number, so
an id stays valid for the life of the server (across sessions and exchange restarts).
The venue account name is shown as ``brokerage_account_number``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ec_cqg.protocol.pb import trading_account_2
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.config import ServerConfig

__all__ = ["AccountDirectory"]


class AccountDirectory:
    """Venue account name ⇄ CQG account id."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}

    def sync(self, names: Iterable[str]) -> None:
        for name in names:
            self.id_of(name)

    def id_of(self, name: str) -> int:
        account_id = self._ids.get(name)
        if account_id is None:
            account_id = self._config.first_account_id + len(self._ids)
            self._ids[name] = account_id
            self._names[account_id] = name
        return account_id

    def name_of(self, account_id: int) -> str | None:
        return self._names.get(account_id)

    def names_within(self, allowed: tuple[str, ...], ids: Iterable[int]) -> tuple[str, ...] | None:
        """The accounts ``ids`` name (all of ``allowed`` when none is given); ``None`` when
        an id is unknown or names an account outside ``allowed``."""
        wanted = list(ids)
        if not wanted:
            return allowed
        names = [self._names.get(i) for i in wanted]
        if any(n is None or n not in allowed for n in names):
            return None
        return tuple(n for n in names if n is not None)

    def report(
        self, names: Iterable[str], *, base: BaseTime, today_ns: int
    ) -> trading_account_2.AccountsReport:
        """One brokerage, one sales series, the given accounts."""
        config = self._config
        report = trading_account_2.AccountsReport()
        brokerage = report.brokerages.add(
            id=config.brokerage_id,
            name=config.brokerage_name,
            type=trading_account_2.Brokerage.BROKERAGE_TYPE_SIM,
        )
        series = brokerage.sales_series.add(number=config.sales_series, name=config.sales_series)
        for name in names:
            series.accounts.add(
                account_id=self.id_of(name),
                brokerage_account_number=name,
                name=name,
                last_statement_date=base.to_offset_ms(today_ns),
                is_view_only=False,
                account_connection_status=trading_account_2.Account.ACCOUNT_CONNECTION_STATUS_CONNECTED,
            )
        return report
