"""Market data for the simulated exchange: a seeded random-walk market and tick replay.

Both put *orders* into the exchange from a house account rather than inventing
prices beside the book, so a strategy's orders meet real liquidity, wait in the
queue and fill by price-time priority.
"""

from ec_mock.market.replay import ReplayFeeder, replay_csv, write_csv
from ec_mock.market.simulator import HOUSE_ACCOUNT, MarketSimulator

__all__ = ["HOUSE_ACCOUNT", "MarketSimulator", "ReplayFeeder", "replay_csv", "write_csv"]
