"""ec-core: the vendor-neutral core of the ec algorithmic trading framework."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ec-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = ["__version__"]
