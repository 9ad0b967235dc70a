"""CQG messages ⇄ ec_core objects: codes, order requests, execution reports, session.

- :mod:`.codes` — declared tables of CQG codes ⇄ core enums
- :mod:`.requests` — core ``NewOrder``/``ModifyOrder``/… → ``order_2.OrderRequest``
- :mod:`.reports` — ``OrderStatus`` → ``ExecutionReport``; metadata → ``Instrument``; accounts
- :mod:`.session` — logon/restore/logoff/ping builders; logon results → ``AuthError``
"""

from ec_cqg.protocol.mapping.codes import (
    order_state_from_cqg,
    transaction_report_kind,
)
from ec_cqg.protocol.mapping.reports import (
    ContractBook,
    ContractRef,
    ReportMapper,
    accounts_from_report,
    instrument_from_metadata,
)
from ec_cqg.protocol.mapping.requests import OrderTarget, build_order_request
from ec_cqg.protocol.mapping.session import (
    check_logon_result,
    check_restore_result,
    logoff_message,
    logon_message,
    ping_message,
    pong_message,
    restore_message,
)

__all__ = [
    "ContractBook",
    "ContractRef",
    "OrderTarget",
    "ReportMapper",
    "accounts_from_report",
    "build_order_request",
    "check_logon_result",
    "check_restore_result",
    "instrument_from_metadata",
    "logoff_message",
    "logon_message",
    "order_state_from_cqg",
    "ping_message",
    "pong_message",
    "restore_message",
    "transaction_report_kind",
]
