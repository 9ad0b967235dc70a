"""What an id the trader types may look like before it reaches a venue.

Client order ids, account ids and self-match prevention ids are keys: the venue, the
journal, the allow-list and every log line match them exactly. A padded or unprintable
one is a typo that would key nothing (or the wrong thing), so it is denied before sending.
"""

from __future__ import annotations

__all__ = ["CLEAN_ID_RULE", "is_clean_id"]

CLEAN_ID_RULE = "printable text without leading or trailing spaces"
"""What :func:`is_clean_id` asks of an id, as a denial or a usage error words it."""


def is_clean_id(text: str) -> bool:
    """Whether ``text`` is :data:`CLEAN_ID_RULE` (an empty text is, being neither).

    A blank id, a padded one or one with control characters would reach the venue, the
    journal and every log line naming the order (or name an account no order matches).
    """
    return text.isprintable() and text.strip() == text
