"""``--account``: one rule for every command that takes one (``ec run``, ``ec replay``,
``ec mock serve``).

An account is named as the core takes a client order id: printable text without leading or
trailing spaces. A blank one fell back to the default account unsaid, a padded one named
an account no order could match; each is a usage error naming ``--account`` and the rule,
before anything is opened.
"""

from __future__ import annotations

from typing import overload

import click

from ec_core.execution.ids import CLEAN_ID_RULE, is_clean_id

__all__ = ["check_accounts"]


def _checked(value: str) -> str:
    if not value or not is_clean_id(value):
        raise click.BadParameter(f"must be {CLEAN_ID_RULE}, got {value!r}")
    return value


@overload
def check_accounts(ctx: click.Context, param: click.Parameter, value: None) -> None: ...
@overload
def check_accounts(ctx: click.Context, param: click.Parameter, value: str) -> str: ...
@overload
def check_accounts(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]: ...
def check_accounts(
    ctx: click.Context, param: click.Parameter, value: str | tuple[str, ...] | None
) -> str | tuple[str, ...] | None:
    """The click callback of an ``--account`` option (one value, or ``multiple=True``)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(_checked(one) for one in value)
    return _checked(value)
