"""Session-state observers hear every vendor: the host hands each factory its listener.

A factory that takes ``on_state`` reports every change (reconnects included); one
written before the parameter keeps working, with a DeprecationWarning, and core
reports its opening and closing. Neither plugin below writes a line about observers.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from ec_core.model import SessionState
from ec_core.plugins import PluginHost, VendorRegistry, hookimpl
from ec_core.plugins.session_state import takes_on_state
from ec_core.vendor import Session, VendorInfo
from ec_mock.vendor import MockSession
from ec_mock.vendor.factory import MockVendorFactory

S = SessionState
OPEN_AND_CLOSE = [
    (S.CREATED, S.CONNECTING),
    (S.CONNECTING, S.LOGGED_ON),
    (S.LOGGED_ON, S.CLOSING),
    (S.CLOSING, S.CLOSED),
]


class StateObserver:
    """A throwaway plugin: every ``ec_on_session_state`` call, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, SessionState, SessionState]] = []

    @hookimpl
    def ec_on_session_state(self, vendor: str, old: SessionState, new: SessionState) -> None:
        self.seen.append((vendor, old, new))

    def moves(self, vendor: str) -> list[tuple[SessionState, SessionState]]:
        return [(old, new) for name, old, new in self.seen if name == vendor]


class LegacyFactory:
    """A plugin written before ``on_state``: ``open(settings)`` and nothing about state."""

    def __init__(self, name: str = "legacy", *, fail: bool = False) -> None:
        self.info = VendorInfo(name=name, version="1.0", distribution="ec-legacy")
        self._fail = fail

    def open(self, settings: Mapping[str, Any]) -> AbstractAsyncContextManager[Session]:
        if self._fail:
            return _Refused()
        return MockVendorFactory().open(settings)


class _Refused(AbstractAsyncContextManager[Session]):
    async def __aenter__(self) -> Session:
        raise ConnectionRefusedError("the venue is down")

    async def __aexit__(self, *exc_info: object) -> None:
        return None  # pragma: no cover


class LegacyPlugin:
    def __init__(self, *factories: LegacyFactory) -> None:
        self.factories = factories

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        for factory in self.factories:
            vendors.add(factory)  # type: ignore[arg-type]  # the old protocol, on purpose


def host_with(*plugins: object) -> tuple[PluginHost, StateObserver]:
    host = PluginHost.load(strict=True)
    for index, plugin in enumerate(plugins):
        assert host.register(plugin, name=f"plugin-{index}")
    observer = StateObserver()
    assert host.register(observer, name="observer")
    return host, observer


@pytest.mark.anyio
async def test_a_factory_taking_on_state_reports_every_change_reconnects_included() -> None:
    host, observer = host_with()
    async with host.open_session("mock", {"account_id": "A1"}) as session:
        assert observer.moves("mock") == OPEN_AND_CLOSE[:2]
        assert isinstance(session, MockSession)
        session.disconnect("the line dropped")
        session.reconnect()
    assert observer.moves("mock") == [
        *OPEN_AND_CLOSE[:2],
        (S.LOGGED_ON, S.RECONNECTING),
        (S.RECONNECTING, S.LOGGED_ON),
        *OPEN_AND_CLOSE[2:],
    ]


@pytest.mark.anyio
async def test_a_factory_without_on_state_still_opens_and_its_edges_are_reported() -> None:
    host, observer = host_with(LegacyPlugin(LegacyFactory()))
    with pytest.warns(DeprecationWarning, match=r"'legacy'.*takes no on_state"):
        opened = host.open_session("legacy", {"account_id": "A1"})
    async with opened as session:
        assert session.state is S.LOGGED_ON
        assert observer.moves("legacy") == OPEN_AND_CLOSE[:2]
    assert observer.moves("legacy") == OPEN_AND_CLOSE


@pytest.mark.anyio
async def test_a_legacy_session_that_fails_to_open_is_reported_closed() -> None:
    host, observer = host_with(LegacyPlugin(LegacyFactory("down", fail=True)))
    with pytest.warns(DeprecationWarning, match="takes no on_state"):
        opened = host.open_session("down", {})
    with pytest.raises(ConnectionRefusedError, match="the venue is down"):
        async with opened:
            pass  # pragma: no cover
    assert observer.moves("down") == [(S.CREATED, S.CONNECTING), (S.CONNECTING, S.CLOSED)]


@pytest.mark.anyio
async def test_an_observer_that_raises_breaks_no_session() -> None:
    class Raising:
        @hookimpl
        def ec_on_session_state(self, vendor: str, old: SessionState, new: SessionState) -> None:
            raise RuntimeError("observer bug")

    host, observer = host_with(Raising())
    async with host.open_session("mock", {"account_id": "A1"}) as session:
        assert session.state is S.LOGGED_ON
    assert observer.moves("mock") == OPEN_AND_CLOSE
    assert host.observer_errors["plugin-0"] == 4


def test_on_state_is_found_by_name_or_through_kwargs() -> None:
    def new_style(settings: object, *, on_state: object = None) -> None: ...
    def with_kwargs(settings: object, **options: object) -> None: ...
    def old_style(settings: object) -> None: ...

    assert takes_on_state(new_style)
    assert takes_on_state(with_kwargs)
    assert not takes_on_state(old_style)
    assert not takes_on_state(len)
