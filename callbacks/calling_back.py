"""Calling a parent back: record the attempt, commit, then ask the dialer to ring the adviser.

When the adviser presses 1 the parent is dialled from their county helpline's number, never the
adviser's. Which webhooks Twilio is sent to is the edge's business, so the caller passes them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from callbacks import attempts, common
from callbacks.models import Attempt
from callbacks.states import AttemptOutcome
from helpline.db import unit_of_work
from helpline.dialer import Dialer, DialerError
from helpline.runtime import Runtime
from helpline.settings import Settings
from rota.service import find_adviser


@dataclass(frozen=True)
class AttemptWebhooks:
    """Where Twilio asks what to do once the adviser answers, and reports the call's progress."""

    answered: str
    status: str


# The webhooks of one attempt, from the service's public base URL and the attempt's id.
AttemptUrls = Callable[[str, int], AttemptWebhooks]


def helpline_number(settings: Settings, office: str) -> str:
    """The number a parent sees when called back: their county helpline's first number."""
    numbers = settings.offices[office].numbers if office in settings.offices else ()
    return numbers[0] if numbers else settings.first_office.numbers[0]


@dataclass(frozen=True)
class CallBackResult:
    """What happened when a call back was asked for; `message` is fit to show staff."""

    attempt_id: int
    placed: bool
    message: str


def call_back(
    runtime: Runtime,
    callback_id: int,
    actor: str,
    adviser_name: str | None = None,
    *,
    urls: AttemptUrls,
    only_if_assigned_to: int | None = None,
) -> CallBackResult:
    """Ring the assigned (or named) adviser; when they press 1 the parent is dialled. With
    `only_if_assigned_to`, only while the callback is still that adviser's (checked under the
    row's lock, so a reassignment a moment before is not undone)."""
    settings = runtime.settings
    dialer: Dialer = runtime.dialer
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        callback = common.get(session, callback_id)
        if only_if_assigned_to is not None:
            session.refresh(callback, with_for_update=True)
            if callback.assigned_to_id != only_if_assigned_to:
                raise common.CallbackError(f"callback {callback_id} is no longer yours")
        if adviser_name:
            adviser = find_adviser(session, adviser_name)
        elif callback.assigned_to is not None:
            adviser = callback.assigned_to
        else:
            raise common.CallbackError(
                f"callback {callback_id} is not assigned: assign it or name an adviser"
            )
        attempt = attempts.start_attempt(session, callback, adviser, actor, now)
        attempt_id, adviser_phone = attempt.id, adviser.phone
        caller_id = helpline_number(settings, callback.office)
    base = settings.public_base_url or ""
    if dialer.places_calls and not base:
        _abandon(runtime, attempt_id, "PUBLIC_BASE_URL is not set")
        raise common.CallbackError("PUBLIC_BASE_URL is not set, so Twilio cannot reach us")
    webhooks = urls(base, attempt_id)
    try:
        sid = dialer.place_call(
            to=adviser_phone,
            from_=caller_id,
            url=webhooks.answered,
            status_callback=webhooks.status,
        )
    except DialerError as exc:
        _abandon(runtime, attempt_id, str(exc))
        raise common.CallbackError(f"the call could not be placed: {exc}") from None
    if sid is None:
        with unit_of_work(runtime.sessions) as session:
            logged = session.get_one(Attempt, attempt_id)
            logged.ended_at = now  # kept for its outcome
            common.event(
                session,
                logged.callback,
                "attempt-not-placed",
                actor,
                now,
                attempt_id=attempt_id,
                reason="no Twilio credentials are configured",
            )
        return CallBackResult(
            attempt_id,
            False,
            f"Call not placed: no Twilio credentials are configured. Attempt {attempt_id} is "
            f"recorded; record its outcome with: helpline callbacks outcome {callback_id} ...",
        )
    with unit_of_work(runtime.sessions) as session:
        attempts.placed(session.get_one(Attempt, attempt_id), sid)
    return CallBackResult(
        attempt_id,
        True,
        f"Ringing the adviser now (attempt {attempt_id}); when they press 1 "
        "the parent is called from the helpline's number.",
    )


def _abandon(runtime: Runtime, attempt_id: int, why: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        attempt = session.get_one(Attempt, attempt_id)
        attempt.outcome = AttemptOutcome.NOT_PLACED
        attempt.ended_at = runtime.clock()
        attempt.note = why
        common.event(
            session,
            attempt.callback,
            "attempt-not-placed",
            "service",
            attempt.ended_at,
            attempt_id=attempt_id,
            reason=why,
        )
