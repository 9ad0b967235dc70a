"""The exchange engine of ec-mock: a sans-I/O simulated futures venue.

Front ends (the in-process ``mock`` vendor, wire-dialect servers) drive an
:class:`Exchange` with core order requests and turn its events into their own
protocol. See ``docs/mock/engine.md``.

Type-only import cycles (annotations under ``TYPE_CHECKING``; none runs at load time,
``tests/packaging/test_import_cycles.py`` checks): the engine ``core`` builds its parts
(``auction``, ``entry_checks``, ``external``, ``matching``, ``modify_rules``, ``orders``,
``reports``, ``rules``) and each part is typed with the core it works on, the split of one
exchange along its seams; ``book`` ↔ ``ledger`` ↔ ``position_ledger`` ↔ ``records``:
resting orders, their records and the accounts and positions they are booked to name
each other's types.
"""

from ec_mock.engine.book import BookView, DepthLevel
from ec_mock.engine.codes import RejectCode
from ec_mock.engine.exchange import DEFAULT_MARGIN_TICKS, Exchange, ExchangeEvent
from ec_mock.engine.listener import Listener, OrderFaults
from ec_mock.engine.models import FillModel, LatencyModel
from ec_mock.engine.settlement import Settlement, SettlementSource, VariationMargin
from ec_mock.engine.state import AccountSnapshot, ExchangeState, OrderSnapshot, PositionSnapshot

__all__ = [
    "DEFAULT_MARGIN_TICKS",
    "AccountSnapshot",
    "BookView",
    "DepthLevel",
    "Exchange",
    "ExchangeEvent",
    "ExchangeState",
    "FillModel",
    "LatencyModel",
    "Listener",
    "OrderFaults",
    "OrderSnapshot",
    "PositionSnapshot",
    "RejectCode",
    "Settlement",
    "SettlementSource",
    "VariationMargin",
]
