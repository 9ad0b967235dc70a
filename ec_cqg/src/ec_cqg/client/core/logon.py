"""The logon sequence's messages: logon or restore, the trade subscription, pings, logoff.

Each builder returns the frame to write and, where someone waits, its
:class:`~ec_cqg.client.core.calls.Call`; the answers set the session's base time and
token. A fresh logon voids contract ids; a renewed trade subscription's snapshot is
diffed against the book (:mod:`.reconcile`).
"""

from __future__ import annotations

from typing import Final

from ec_core.errors import AuthError, ProtocolError

import ec_cqg.client.core.information as info
from ec_cqg.client.core.calls import Call
from ec_cqg.client.core.status_intake import StatusIntake
from ec_cqg.protocol.codec import encode_client
from ec_cqg.protocol.correlation import Answer, ItemKind
from ec_cqg.protocol.mapping.session import (
    check_logon_result,
    check_restore_result,
    logoff_message,
    logon_message,
    ping_message,
    restore_message,
)
from ec_cqg.protocol.pb import ClientMsg, trade_routing_2, user_session_2

__all__ = ["TRADE_SCOPES", "LogonSequence"]

_TS = trade_routing_2.TradeSubscription
TRADE_SCOPES: Final = (_TS.SUBSCRIPTION_SCOPE_ORDERS, _TS.SUBSCRIPTION_SCOPE_POSITIONS)


class LogonSequence(StatusIntake):
    """Logon, restore, logoff, the trade subscription and heartbeat pings."""

    def logon(
        self,
        *,
        user_name: str,
        password: str,
        client_app_id: str,
        client_version: str,
        deadline_ns: int,
    ) -> tuple[Call[bool], bytes]:
        """Log on afresh; the call's result is False (nothing restored)."""

        def interpret(answers: list[Answer]) -> bool:
            logon = answers[-1].item
            assert isinstance(logon, user_session_2.LogonResult)
            self._set_base_time(check_logon_result(logon), logon.server_time)
            self.session_token = logon.session_token
            return False

        msg = logon_message(
            user_name=user_name,
            password=password,
            client_app_id=client_app_id,
            client_version=client_version,
        )
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def restore(self, *, client_app_id: str, deadline_ns: int) -> tuple[Call[bool], bytes]:
        """Restore the session with its token; refused (AuthError) forgets the token."""

        def interpret(answers: list[Answer]) -> bool:
            result = answers[-1].item
            assert isinstance(result, user_session_2.RestoreOrJoinSessionResult)
            try:
                base = check_restore_result(result)
            except AuthError:
                self.session_token = ""
                raise
            self._set_base_time(base, result.server_time)
            self.counters["restores"] += 1
            return True

        msg = restore_message(session_token=self.session_token, client_app_id=client_app_id)
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def logoff(self, text: str, *, deadline_ns: int) -> tuple[Call[None], bytes]:
        return self.calls.start(
            logoff_message(text), lambda _answers: None, deadline_ns=deadline_ns
        )

    def forget_logon(self) -> list[str]:
        """A fresh logon voids contract ids: the symbols to resolve again."""
        for contract_id in self.contracts.held_contracts():
            self._drop_held(contract_id, "fresh logon")
        return self.contracts.forget_logon()

    def subscribe_trades(self, *, first: bool, deadline_ns: int) -> tuple[Call[None], bytes]:
        """Renew the trade subscription; its snapshot is diffed against the book."""
        previous = self._trade_sub_id
        self._trade_sub_id = sub_id = next(self._ids)
        sub = trade_routing_2.TradeSubscription(
            id=sub_id, subscribe=True, subscription_scopes=list(TRADE_SCOPES)
        )
        if self._accounts:
            sub.publication_type = _TS.PUBLICATION_TYPE_ACCOUNTS
            sub.account_ids.extend(int(a) for a in self._accounts)
        msg = ClientMsg(trade_subscriptions=[sub])
        if previous and not first:
            msg.trade_subscriptions.add(id=previous, subscribe=False)
        self.snapshot.expect(sub_id, TRADE_SCOPES, first=first)

        def interpret(answers: list[Answer]) -> None:
            for answer in answers:
                if answer.kind is ItemKind.TRADE_SUBSCRIPTION_STATUS:
                    code = getattr(answer.item, "status_code", 0)
                    if code >= info.FAILURE:
                        raise ProtocolError(f"trade subscription refused (status {code})")
            if self.snapshot.collecting:  # the completions came with the answers
                self._apply_snapshot(self._now_ns)

        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def ping(self, now_ns: int, *, deadline_ns: int) -> bytes | None:
        """A heartbeat ping (None before the first logon: no base time yet)."""
        base = self.base_time
        if base is None:
            return None
        msg = ping_message(ping_utc_time=base.to_offset_ms(now_ns), token=f"hb{next(self._pings)}")
        self.correlator.track(msg, deadline_ns=deadline_ns)
        self.counters["pings_sent"] += 1
        return encode_client(msg)
