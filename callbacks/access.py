"""Who may act on a callback: open its page, play its messages, note it, call the parent back
and record how it went.

Someone who sees all (the duty officer; which roles do is the staff pages' to say) may act on
every callback. Anyone else may act only on the callbacks assigned to their own adviser on the
rota, and a person linked to no adviser on none at all.
"""

from __future__ import annotations

# No adviser has this id: a person acting as nobody may act on no callback.
NOBODY = -1


def acting_as(adviser_id: int | None, sees_all: bool) -> int | None:
    """The adviser whose callbacks alone the person may act on: None when they may act on
    every callback, NOBODY when they may act on none (they do not see all and their account is
    linked to no adviser)."""
    if sees_all:
        return None
    return NOBODY if adviser_id is None else adviser_id


def may_act_on(assigned_to_id: int | None, acting: int | None) -> bool:
    """Whether a person acting as `acting` (from `acting_as`) may act on a callback assigned to
    `assigned_to_id` (None: in the pool, assigned to nobody)."""
    return acting is None or assigned_to_id == acting
