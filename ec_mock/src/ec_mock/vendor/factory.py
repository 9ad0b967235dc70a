"""The ``mock`` :class:`~ec_core.vendor.VendorFactory`: opens in-process sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, final

import anyio
from ec_core.errors import ConfigError
from ec_core.session import StateListener
from ec_core.vendor import Capability, VendorInfo

from ec_mock.vendor.config import DEFAULT_ACCOUNT, MockSettings, parse_settings
from ec_mock.vendor.session import MockSession
from ec_mock.vendor.venue import MockVenue

__all__ = ["MOCK_INFO", "MockVendorFactory"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ec-mock")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


MOCK_INFO = VendorInfo(
    name="mock",
    version=_version(),
    distribution="ec-mock",
    capabilities=frozenset(Capability),
    description="In-process exchange simulator: no network, no account, seeded.",
    paper=True,
    default_account=DEFAULT_ACCOUNT,
)


@final
class MockVendorFactory:
    """Opens sessions on a private venue, or on a shared one passed as ``settings["venue"]``."""

    @property
    def info(self) -> VendorInfo:
        return MOCK_INFO

    def open(
        self, settings: Mapping[str, Any], *, on_state: StateListener | None = None
    ) -> AbstractAsyncContextManager[MockSession]:
        """Check ``settings`` now (raising :class:`ConfigError`); build and connect on enter.
        ``on_state(old, new)`` hears every state change of the session."""
        parsed, objects = parse_settings(settings)
        venue = objects.get("venue")
        if venue is not None and not isinstance(venue, MockVenue):
            raise ConfigError(
                f"must be a MockVenue, got {type(venue).__name__}", path="vendors.mock.venue"
            )
        return _session(parsed, venue, objects.get("faults"), on_state)

    def with_accounts(self, settings: Mapping[str, Any], accounts: Sequence[str]) -> dict[str, Any]:
        """ec-core's :class:`~ec_core.vendor.OpensAccounts`: ``account_id`` (when the table
        names none, the first of ``accounts``) and ``accounts`` then hold every one."""
        table = dict(settings)
        if not accounts:
            return table
        own = table.setdefault("account_id", accounts[0])
        listed = list(table.get("accounts", ()))
        extra = [a for a in dict.fromkeys(accounts) if a != own and a not in listed]
        if extra:
            table["accounts"] = [*listed, *extra]
        return table

    def with_seed(self, settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
        """ec-core's :class:`~ec_core.vendor.TakesSeed`: ``seed`` (same seed, same market)."""
        return {**settings, "seed": seed}


@asynccontextmanager
async def _session(
    settings: MockSettings, venue: MockVenue | None, faults: Any, on_state: StateListener | None
) -> AsyncIterator[MockSession]:
    from ec_mock.vendor.backfill import PacedClock
    from ec_mock.vendor.faultgate import build_gate

    owned = venue is None
    if venue is None:
        start_ns = settings.start_ns
        venue = MockVenue.create(
            seed=settings.seed,
            pace=settings.clock,
            clock=PacedClock(start_ns) if start_ns is not None else None,
            instruments=settings.instruments,
            accounts=settings.all_accounts,
            balance=settings.balance,
            commission_per_contract=settings.commission_per_contract,
            commission_per_order=settings.commission_per_order,
            market=settings.market,
            step_ns=settings.step_ns,
        )
    session = MockSession(
        venue,
        account_ids=settings.all_accounts,
        gate=build_gate(faults, seed=settings.seed),
        market_buffer=settings.market_buffer,
        trade_buffer=settings.trade_buffer,
        replay_model=settings.replay,
        seed=settings.seed,
        on_state=on_state,
    )
    if session.gate is not None:
        session.gate.bind(session)
    async with session:
        if owned and settings.market:
            # The first step shows the simulated market before the caller's first order:
            # a market order sent at once must meet a book, however fast the session's
            # channels hand the loop back.
            venue.step()
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(venue.run)
                try:
                    yield session
                finally:
                    tasks.cancel_scope.cancel()
        else:
            yield session
    if owned:
        venue.check()
