"""Market data for the simulated exchange: a seeded random-walk market and tick replay.

The simulator and :class:`ReplayFeeder` put *orders* into the exchange from a house
account rather than inventing prices beside the book, so a strategy's orders meet
liquidity, wait in the queue and fill by price-time priority. :class:`RecordedVenue`
is the replay venue built for recorded data: the recorded top of book is the market,
and only the user's own orders are checked against it.
"""

from ec_mock.market.recorded import RecordedVenue
from ec_mock.market.recorded_model import RecordedFillModel
from ec_mock.market.replay import ReplayFeeder, replay_csv, write_csv
from ec_mock.market.simulator import HOUSE_ACCOUNT, MarketSimulator

__all__ = [
    "HOUSE_ACCOUNT",
    "MarketSimulator",
    "RecordedFillModel",
    "RecordedVenue",
    "ReplayFeeder",
    "replay_csv",
    "write_csv",
]
