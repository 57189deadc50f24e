"""The words of the callback queue: a callback's status and an attempt's outcome. Pure.

They are kept in the database as they are spelled here (see `helpline.db.StrEnumType`).
"""

from __future__ import annotations

from enum import StrEnum


class CallbackStatus(StrEnum):
    """Where a callback stands: open or assigned until it is completed, unreachable or
    cancelled."""

    OPEN = "open"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


OPEN_STATUSES = (CallbackStatus.OPEN, CallbackStatus.ASSIGNED)


class AttemptOutcome(StrEnum):
    """How a call-back attempt went. The first four are an outcome proper, which counts against
    the callback's attempts (`OUTCOMES`); the others end a try that never reached the parent."""

    SPOKE = "spoke"
    LEFT_MESSAGE = "left-message"
    NO_ANSWER = "no-answer"
    WRONG_NUMBER = "wrong-number"
    ADVISER_CANCELLED = "adviser-cancelled"  # the adviser hung up before the parent answered
    ADVISER_MISSED = "adviser-missed"  # the adviser's phone never got as far as the parent
    NOT_PLACED = "not-placed"  # the call to the adviser could not be placed


OUTCOMES = (
    AttemptOutcome.SPOKE,
    AttemptOutcome.LEFT_MESSAGE,
    AttemptOutcome.NO_ANSWER,
    AttemptOutcome.WRONG_NUMBER,
)
