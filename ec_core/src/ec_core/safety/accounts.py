"""The session's accounts: an order for any other account is denied before it is sent.

A logon trades a known set of accounts (:meth:`ec_core.vendor.Session.accounts`).
An order naming another one (EC_API code keeps a module-level ``ACCOUNT_ID``) would
at best be rejected by the venue and at worst wait for an answer that never comes
on a stream nobody reads; the executor asks :func:`check_known_account` first.
"""

from __future__ import annotations

from collections.abc import Collection

from ec_core.errors import Violation
from ec_core.safety.codes import Code

__all__ = ["check_known_account"]


def check_known_account(account_id: object, known: Collection[str]) -> Violation | None:
    """``ACCOUNT_UNKNOWN`` naming the account and the known ones, or ``None``.

    A non-str account is left to the mandatory guards (``ACCOUNT_NOT_ALLOWED``).
    """
    if type(account_id) is not str or not account_id or account_id in known:
        return None
    names = ", ".join(sorted(known)) or "none"
    return Violation(
        code=Code.ACCOUNT_UNKNOWN,
        field="account_id",
        rule=(
            f"is not an account of this session (known: {names}); trade ctx.account_id"
            " or the account given to ec run / ec replay (--account)"
        ),
        value=account_id,
        limit=names,
    )
