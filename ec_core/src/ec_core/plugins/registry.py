"""Typed registries that plugins add to from their hooks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import final

from ec_core.errors import PluginError
from ec_core.vendor import VendorFactory, VendorInfo

__all__ = ["VendorRegistry"]


@final
class VendorRegistry:
    """Vendor factories by name, and by ``"distribution:name"``.

    Two distributions registering one name is a *conflict*, not a race: both are kept,
    the bare name selects neither (:meth:`get` returns None, the host raises
    :class:`~ec_core.errors.AmbiguousVendorError`), and ``"dist:name"`` selects one.
    The outcome does not depend on the order in which plugins were loaded.
    """

    def __init__(self) -> None:
        self._factories: dict[str, dict[str, VendorFactory]] = {}  # name -> dist -> factory

    def add(self, factory: VendorFactory) -> None:
        name, dist = factory.info.name, factory.info.distribution
        claimants = self._factories.setdefault(name, {})
        existing = claimants.get(dist)
        if existing is not None and existing is not factory:
            raise PluginError(f"vendor {name!r} registered twice by {dist}", plugin=name)
        claimants[dist] = factory

    def remove(self, key: str) -> None:
        """Forget ``"dist:name"`` (or every claimant of a bare ``name``): the host undoes a
        failed plugin's additions with this."""
        dist, _, name = key.rpartition(":")
        claimants = self._factories.get(name, {})
        if dist:
            claimants.pop(dist, None)
        else:
            claimants.clear()
        if not claimants:
            self._factories.pop(name, None)

    def get(self, name: str) -> VendorFactory | None:
        """The factory for ``name`` or ``"dist:name"``; None if absent or ambiguous."""
        dist, _, bare = name.rpartition(":")
        claimants = self._factories.get(bare, {})
        if dist:
            return claimants.get(dist)
        if len(claimants) == 1:
            return next(iter(claimants.values()))
        return None

    def keys(self) -> set[str]:
        """Every ``"dist:name"`` registered."""
        return {f"{d}:{n}" for n, claimants in self._factories.items() for d in claimants}

    def names(self) -> list[str]:
        """Every vendor name, ambiguous ones included (see :meth:`conflicts`)."""
        return sorted(self._factories)

    def conflicts(self) -> Mapping[str, tuple[str, ...]]:
        """Vendor names registered by more than one distribution, with those distributions."""
        return {
            name: tuple(sorted(claimants))
            for name, claimants in sorted(self._factories.items())
            if len(claimants) > 1
        }

    def infos(self) -> list[VendorInfo]:
        return [factory.info for factory in self]

    def __iter__(self) -> Iterator[VendorFactory]:
        return iter(
            [self._factories[n][d] for n in self.names() for d in sorted(self._factories[n])]
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self._factories or (":" in name and self.get(name) is not None)
        )

    def __len__(self) -> int:
        return len(self._factories)
