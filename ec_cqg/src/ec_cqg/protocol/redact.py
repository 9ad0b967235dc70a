"""Secrets out of what we keep: protobuf messages with their credentials masked.

A ``Logon`` carries the password (and maybe a one-time password or tokens), a
``RestoreOrJoinSession`` and a ``LogonResult`` the session token. Protobuf's own
``repr`` prints them, so whatever holds such a message (a pending request, a
recorded frame) shows it through :func:`safe_repr` and records it through
:func:`redacted`. One list of secret field names, :data:`SECRET_FIELDS`, for both.
"""

from __future__ import annotations

from typing import Final, TypeVar

from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

__all__ = ["REDACTED", "SECRET_FIELDS", "has_secret", "redacted", "safe_repr"]

SECRET_FIELDS: Final = frozenset(
    {"password", "one_time_password", "access_token", "partner_token", "session_token"}
)
REDACTED: Final = "<redacted>"

_M = TypeVar("_M", bound=Message)
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def has_secret(message: Message) -> bool:
    """Whether a secret field is set anywhere in ``message``."""
    for field, value in message.ListFields():
        if field.name in SECRET_FIELDS:
            return True
        if field.type == _MESSAGE:
            items = value if field.is_repeated else (value,)
            if any(has_secret(item) for item in items):
                return True
    return False


def redacted(message: _M) -> _M:
    """A copy of ``message`` with every secret field set to :data:`REDACTED` (the
    message itself if it holds none)."""
    if not has_secret(message):
        return message
    copy = type(message)()
    copy.CopyFrom(message)
    _mask(copy)
    return copy


def safe_repr(message: Message | None) -> str:
    """``TypeName(field: value …)`` on one line, secrets masked."""
    if message is None:
        return "None"
    body = text_format.MessageToString(redacted(message), as_one_line=True)
    return f"{type(message).__name__}({body})"


def _mask(message: Message) -> None:
    for field, value in message.ListFields():
        if field.name in SECRET_FIELDS:
            if field.type == FieldDescriptor.TYPE_STRING:
                setattr(message, field.name, REDACTED)
            elif field.type == FieldDescriptor.TYPE_BYTES:
                setattr(message, field.name, REDACTED.encode())
            else:
                message.ClearField(field.name)
        elif field.type == _MESSAGE:
            for item in value if field.is_repeated else (value,):
                _mask(item)
