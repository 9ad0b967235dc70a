"""Who may ask the gateway for what: the one reading of its per-worker allow-list.

Every request on the intents stream names its worker. The gateway's config lists
the workers (``[gateway.workers.NAME]``) and the accounts each may use; the rules,
checked in this order, are the same for an intent, a hello (an account's orders,
positions and P&L) and a subscription (market data):

* ``WORKER_NOT_ALLOWED`` (field ``worker``): the config does not list the worker.
  Every request of it is refused, a subscription too.
* ``ACCOUNT_NOT_ALLOWED`` (field ``account_id``): the account is not in the worker's
  list. An intent is denied, a hello gets no snapshot.
* ``ACCOUNT_UNKNOWN`` (field ``account_id``): listed for the worker, but not an
  account this gateway trades.

A refused intent is answered ``DENIED`` with the violation and nothing is sent; a
refused hello or subscription is answered ``DENIED`` the same way (keyed by its
``hello_id``), which the worker's client raises as
:class:`~ec_core.gateway.wire.GatewayRefusedError`.
"""

from __future__ import annotations

from collections.abc import Container

from ec_core.errors import Violation
from ec_core.gateway.config import GatewayConfig

__all__ = ["refusal"]


def refusal(
    config: GatewayConfig, worker: str, account_id: str | None, traded: Container[str]
) -> Violation | None:
    """The rule ``worker`` breaks by asking for ``account_id`` (``None``: no account, a
    subscription), or ``None`` when it may."""
    access = config.workers.get(worker)
    if access is None:
        return Violation(
            code="WORKER_NOT_ALLOWED",
            field="worker",
            rule="must be listed under [gateway.workers] in the gateway's config",
            value=worker,
        )
    if account_id is None:
        return None
    if not config.allowed(worker, account_id):
        return Violation(
            code="ACCOUNT_NOT_ALLOWED",
            field="account_id",
            rule=f"must be one of worker {worker}'s accounts in the gateway's config"
            f" ({', '.join(access.accounts) or 'none'})",
            value=account_id,
        )
    if account_id not in traded:
        return Violation(
            code="ACCOUNT_UNKNOWN",
            field="account_id",
            rule="must be an account the gateway trades",
            value=account_id,
        )
    return None
