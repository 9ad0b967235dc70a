"""A string that never shows itself in logs, reprs, tracebacks or encoded data."""

from __future__ import annotations

import hmac
from typing import final

__all__ = ["Secret"]


@final
class Secret:
    """A credential: ``str()``, ``repr()`` and ``format()`` give ``***``; :meth:`reveal` gives it.

    Encoding refuses it: msgspec (and ``json``) raise ``TypeError`` for a Secret,
    so a settings table cannot be journaled or sent with the password inside by
    accident. An encoder that falls back to ``str()`` gets ``***``. Pickling is
    refused for the same reason; copying returns the same (immutable) object.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The credential itself: call this only where it is handed to the venue."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return format("***", spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
