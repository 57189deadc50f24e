"""Every model of every domain, imported in one place for the migrations and for tests."""

from accounts.models import Account, AuditEntry, SignInAttempt, StaffSession
from callbacks.models import (
    Attempt,
    Callback,
    CallbackEvent,
    DeadlineWarning,
    JobRun,
    Message,
    Note,
)
from calls.models import Call, CallEvent, CallLeg
from rota.models import Adviser, Closure, Shift

ALL_MODELS = (
    Adviser,
    Shift,
    Closure,
    Call,
    CallLeg,
    CallEvent,
    Message,
    Callback,
    Attempt,
    Note,
    DeadlineWarning,
    CallbackEvent,
    JobRun,
    Account,
    StaffSession,
    SignInAttempt,
    AuditEntry,
)
