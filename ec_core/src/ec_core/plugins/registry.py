"""Typed registries that plugins add to from their hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import final

from ec_core.errors import PluginError
from ec_core.vendor import VendorFactory, VendorInfo

__all__ = ["VendorRegistry"]


@final
class VendorRegistry:
    """Vendor factories by name. Two plugins claiming one name is an error naming both."""

    def __init__(self) -> None:
        self._factories: dict[str, VendorFactory] = {}

    def add(self, factory: VendorFactory) -> None:
        name = factory.info.name
        existing = self._factories.get(name)
        if existing is not None and existing is not factory:
            raise PluginError(
                f"vendor {name!r} registered twice: by {existing.info.distribution}"
                f" and by {factory.info.distribution}",
                plugin=name,
            )
        self._factories[name] = factory

    def remove(self, name: str) -> None:
        """Forget vendor ``name`` (the host undoes a failed plugin's additions with this)."""
        self._factories.pop(name, None)

    def get(self, name: str) -> VendorFactory | None:
        return self._factories.get(name)

    def names(self) -> list[str]:
        return sorted(self._factories)

    def infos(self) -> list[VendorInfo]:
        return [self._factories[n].info for n in self.names()]

    def __iter__(self) -> Iterator[VendorFactory]:
        return iter([self._factories[n] for n in self.names()])

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __len__(self) -> int:
        return len(self._factories)
