"""Session messages: logon, restore/join, logoff, ping/pong, and their results as errors.

Builders return whole ``ClientMsg`` envelopes ready for ``codec.encode_client``.
The protocol version sent is the one our ``.proto`` subset was written from.
Credentials go into the message only; nothing here logs or formats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ec_core.errors import AuthError, ProtocolError

from ec_cqg.protocol.pb import (
    PROTOCOL_VERSION_MAJOR,
    PROTOCOL_VERSION_MINOR,
    ClientMsg,
    user_session_2,
)
from ec_cqg.protocol.timestamps import BaseTime

__all__ = [
    "LOGON_FAILURES",
    "RESTORE_FAILURES",
    "check_logon_result",
    "check_restore_result",
    "logoff_message",
    "logon_message",
    "ping_message",
    "pong_message",
    "restore_message",
]

_LR = user_session_2.LogonResult
_RR = user_session_2.RestoreOrJoinSessionResult

#: Logon result code → what it means, for the :class:`AuthError` message.
LOGON_FAILURES: Final[Mapping[int, str]] = MappingProxyType(
    {
        _LR.RESULT_CODE_FAILURE: "logon failed (bad user name or password, or no rights)",
        _LR.RESULT_CODE_NO_ONETIME_PASSWORD: "a one-time password is required",
        _LR.RESULT_CODE_PASSWORD_EXPIRED: "the password has expired",
        _LR.RESULT_CODE_CONCURRENT_SESSION: "another session of this user is active",
        _LR.RESULT_CODE_REDIRECTED: "redirected to another server",
        _LR.RESULT_CODE_ROUTINE_ERROR: "the logon routine failed",
        _LR.RESULT_CODE_ACCESS_TOKEN_EXPIRED: "the access token has expired",
    }
)
RESTORE_FAILURES: Final[Mapping[int, str]] = MappingProxyType(
    {
        _RR.RESULT_CODE_FAILURE: "session restore failed",
        _RR.RESULT_CODE_UNKNOWN_SESSION: "unknown or expired session token",
        _RR.RESULT_CODE_ACCESS_DENIED: "session restore denied",
        _RR.RESULT_CODE_INVALID_PARAMS: "invalid session restore parameters",
    }
)


def logon_message(
    *,
    user_name: str,
    password: str,
    client_app_id: str,
    client_version: str,
    allow_restore: bool = True,
    allow_join: bool = False,
    drop_concurrent_session: bool | None = None,
    private_label: str | None = None,
) -> ClientMsg:
    """``ClientMsg{logon{…}}`` with our protocol version."""
    msg = ClientMsg()
    logon = msg.logon
    logon.user_name = user_name
    logon.password = password
    logon.client_app_id = client_app_id
    logon.client_version = client_version
    logon.protocol_version_major = PROTOCOL_VERSION_MAJOR
    logon.protocol_version_minor = PROTOCOL_VERSION_MINOR
    settings: list[int] = []
    if allow_restore:
        settings.append(user_session_2.Logon.SESSION_SETTING_ALLOW_SESSION_RESTORE)
    if allow_join:
        settings.append(user_session_2.Logon.SESSION_SETTING_ALLOW_SESSION_JOIN)
    logon.session_settings.extend(settings)
    if drop_concurrent_session is not None:
        logon.drop_concurrent_session = drop_concurrent_session
    if private_label is not None:
        logon.private_label = private_label
    return msg


def restore_message(*, session_token: str, client_app_id: str) -> ClientMsg:
    """``ClientMsg{restore_or_join_session{…}}`` to resume a session after a reconnect."""
    msg = ClientMsg()
    restore = msg.restore_or_join_session
    restore.session_token = session_token
    restore.client_app_id = client_app_id
    restore.protocol_version_major = PROTOCOL_VERSION_MAJOR
    restore.protocol_version_minor = PROTOCOL_VERSION_MINOR
    return msg


def logoff_message(text: str = "") -> ClientMsg:
    msg = ClientMsg()
    msg.logoff.text_message = text
    return msg


def ping_message(*, ping_utc_time: int, token: str | None = None) -> ClientMsg:
    """``ping_utc_time`` is a base-time offset in ms (:meth:`BaseTime.to_offset_ms`)."""
    msg = ClientMsg()
    msg.ping.ping_utc_time = ping_utc_time
    if token is not None:
        msg.ping.token = token
    return msg


def pong_message(ping: user_session_2.Ping, *, pong_utc_time: int) -> ClientMsg:
    """The answer to a server ping: token and ping time echoed."""
    msg = ClientMsg()
    if ping.HasField("token"):
        msg.pong.token = ping.token
    msg.pong.ping_utc_time = ping.ping_utc_time
    msg.pong.pong_utc_time = pong_utc_time
    return msg


def _check_version(major: int, minor: int) -> None:
    if major != PROTOCOL_VERSION_MAJOR:
        raise ProtocolError(
            f"server speaks protocol {major}.{minor}, we speak "
            f"{PROTOCOL_VERSION_MAJOR}.{PROTOCOL_VERSION_MINOR}"
        )


def check_logon_result(result: user_session_2.LogonResult) -> BaseTime:
    """The session's base time on success; :class:`AuthError` with the code otherwise."""
    if result.result_code != _LR.RESULT_CODE_SUCCESS:
        raise AuthError(
            _failure(LOGON_FAILURES, result.result_code, result), code=result.result_code
        )
    _check_version(result.protocol_version_major, result.protocol_version_minor)
    return BaseTime(result.base_time)


def check_restore_result(result: user_session_2.RestoreOrJoinSessionResult) -> BaseTime:
    """The (new) base time on success; :class:`AuthError` with the code otherwise."""
    if result.result_code != _RR.RESULT_CODE_SUCCESS:
        raise AuthError(
            _failure(RESTORE_FAILURES, result.result_code, result), code=result.result_code
        )
    return BaseTime(result.base_time)


def _failure(
    table: Mapping[int, str],
    code: int,
    result: user_session_2.LogonResult | user_session_2.RestoreOrJoinSessionResult,
) -> str:
    text = table.get(code, "refused")
    if result.text_message:
        text += f": {result.text_message}"
    redirect = getattr(result, "redirect_url", "")
    if redirect:
        text += f" (redirect to {redirect})"
    return text
