"""The scheduler's periodic jobs. Each claims its rows so two clocks still do each piece once.

On PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`: a second clock running at the
same moment skips the rows the first holds. SQLite takes a write lock at BEGIN, so there the
runs simply queue. The jobs here work in one transaction each; those that call Twilio are in
callbacks.recording_jobs and callbacks.settle_calls_job and hold none while Twilio answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from callbacks import clocks, common, deadline_warnings, policy, staff_actions
from callbacks.job_results import Assigned, ClocksStarted, Released, Returned, Warned
from callbacks.job_runs import prune_job_runs
from callbacks.jobkit import ACTOR, Runner, in_transaction
from callbacks.jobkit import JobContext as JobContext  # where jobs and tests have found it
from callbacks.jobkit import claim as _claim
from callbacks.models import Attempt, Callback, DeadlineWarning
from callbacks.pseudonyms import pseudonymise_numbers
from callbacks.recording_jobs import reconcile_recordings
from callbacks.recording_retention import delete_recordings
from callbacks.settle_calls_job import settle_calls
from callbacks.states import OPEN_STATUSES, CallbackStatus
from callbacks.statistics_facts import fill_statistics_facts
from rota import service as rota
from rota.calendar import OfficeCalendar
from rota.models import Adviser, Shift

log = logging.getLogger("helpline.jobs")


def assign_callbacks(session: Session, ctx: JobContext, now: datetime) -> Assigned:
    """Give unassigned callbacks to advisers on shift and not away, own county first, balancing
    open work."""
    settings = ctx.settings
    waiting = _claim(
        session,
        select(Callback)
        .where(
            Callback.status == CallbackStatus.OPEN,
            Callback.assigned_to_id.is_(None),
            or_(Callback.next_attempt_at.is_(None), Callback.next_attempt_at <= now),
        )
        # No deadline (an office with no opening in sight) comes after every deadline.
        .order_by(Callback.due_at.is_(None), Callback.due_at, Callback.id),
    )
    if not waiting:
        return Assigned(waiting=0, assigned=0)
    margin = timedelta(minutes=settings.callbacks.min_shift_left_minutes)
    # An adviser who set themself away keeps their work but is given none.
    working = [a for a in rota.on_shift(session, now) if a.ends_at - now >= margin and not a.away]
    loads: dict[int | None, int] = {
        adviser_id: count
        for adviser_id, count in session.execute(
            select(Callback.assigned_to_id, func.count())
            .where(Callback.status == CallbackStatus.ASSIGNED)
            .group_by(Callback.assigned_to_id)
        )
    }
    workers = [
        policy.Worker(a.adviser_id, a.office, loads.get(a.adviser_id, 0), a.name) for a in working
    ]
    partners = {key: office.fallback for key, office in settings.offices.items()}
    # A callback whose office is no longer configured has no team of its own: any team may
    # call the parent back.
    for callback in waiting:
        partners.setdefault(callback.office, tuple(settings.offices))
    pairs = policy.assign(
        [policy.OpenWork(c.id, c.office, c.due_at) for c in waiting],
        workers,
        partners=partners,
        max_open=settings.callbacks.max_open_per_adviser,
    )
    by_id = {c.id: c for c in waiting}
    for callback_id, adviser_id in pairs:
        callback = by_id[callback_id]
        callback.next_attempt_at = None
        staff_actions.assign(session, callback, session.get_one(Adviser, adviser_id), ACTOR, now)
    return Assigned(waiting=len(waiting), assigned=len(pairs))


def return_to_pool(session: Session, ctx: JobContext, now: datetime) -> Returned:
    """Put back in the pool the callbacks of advisers whose shift has ended since the callback
    was given to them and who are not on shift now.

    A callback given to an adviser off shift (by the duty officer, say) stays with them until
    their next shift ends.
    """
    working = {a.adviser_id for a in rota.on_shift(session, now)}
    busy_since = now - timedelta(hours=1)
    in_progress = select(Attempt.callback_id).where(
        Attempt.outcome.is_(None), Attempt.started_at > busy_since
    )
    shift_ended_since_assigned = (
        select(Shift.id)
        .where(
            Shift.adviser_id == Callback.assigned_to_id,
            Shift.ends_at <= now,
            or_(Callback.assigned_at.is_(None), Shift.ends_at > Callback.assigned_at),
        )
        .exists()
    )
    held = _claim(
        session,
        select(Callback)
        .where(
            Callback.status == CallbackStatus.ASSIGNED,
            Callback.assigned_to_id.not_in(working),
            Callback.id.not_in(in_progress),
            shift_ended_since_assigned,
        )
        .order_by(Callback.id),
    )
    for callback in held:
        staff_actions.unassign(session, callback, ACTOR, now, reason="shift ended")
    return Returned(returned=len(held))


def release_retries(session: Session, ctx: JobContext, now: datetime) -> Released:
    """Make callbacks whose retry time has come ready for assignment again."""
    due = _claim(
        session,
        select(Callback)
        .where(Callback.status.in_(OPEN_STATUSES), Callback.next_attempt_at <= now)
        .order_by(Callback.id),
    )
    for callback in due:
        callback.next_attempt_at = None
        common.event(session, callback, "retry-due", ACTOR, now)
    session.flush()
    return Released(released=len(due))


def warn_deadlines(session: Session, ctx: JobContext, now: datetime) -> Warned:
    """Warn the duty officer of first attempts due within `warn_before_hours` working hours
    (so a Monday 09:30 deadline is flagged on Friday afternoon, not at 05:30 on Monday), and of
    those overdue (an attempt only logged, never placed, is no first attempt); a warning no
    longer true (the office reopened, the deadline moved) is withdrawn, so the queue shows only
    warnings that hold now."""
    settings = ctx.settings
    warn_seconds = settings.callbacks.warn_before_hours * 3600
    candidates = _claim(
        session,
        select(Callback)
        .where(
            Callback.status.in_(OPEN_STATUSES),
            or_(
                Callback.due_at <= now + timedelta(days=14),  # a long weekend is far shorter
                Callback.warnings.any(),
            ),
            deadline_warnings.no_attempt_placed(),
        )
        .order_by(Callback.due_at),
    )
    calendars: dict[str, OfficeCalendar | None] = {}
    raised = 0
    for callback in candidates:
        due = callback.due_at
        if callback.office not in calendars:
            calendars[callback.office] = rota.calendar_if_configured(
                session, settings, callback.office, now
            )
        kind = deadline_warnings.warning_now(calendars[callback.office], due, now, warn_seconds)
        deadline_warnings.withdraw_stale(session, callback, kind, ACTOR, now)
        if kind is None or due is None or any(w.kind == kind for w in callback.warnings):
            continue
        callback.warnings.append(
            DeadlineWarning(callback_id=callback.id, kind=kind, created_at=now)
        )
        common.event(session, callback, f"warning-{kind}", ACTOR, now)
        log.warning(
            "callback %s is %s (due %s)",
            callback.id,
            kind.replace("-", " "),
            due.isoformat(),
        )
        raised += 1
    session.flush()
    return Warned(raised=raised)


def start_clocks(session: Session, ctx: JobContext, now: datetime) -> ClocksStarted:
    """Give a deadline to callbacks filed with none, once their office has an opening in sight
    (reopening the office does this at once; this catches every other way it comes back)."""
    waiting = clocks.count_waiting(session)
    if not waiting:
        return ClocksStarted(waiting=0, started=0, still_waiting=0)
    deadlines = clocks.deadlines_in_sight(session, ctx.settings, now)
    held = _claim(session, clocks.waiting(deadlines).order_by(Callback.id)) if deadlines else []
    started = clocks.start(session, held, deadlines, now, ACTOR)
    left = clocks.count_waiting(session)
    return ClocksStarted(waiting=waiting, started=started, still_waiting=left)


@dataclass(frozen=True)
class Job:
    """A periodic job and how often it runs; `run` is given a session factory."""

    name: str
    run: Runner
    every_seconds: int
    about: str


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "settle-calls",
            settle_calls,
            300,
            "settle calls and legs whose end never arrived",
        ),
        Job(
            "assign-callbacks",
            in_transaction(assign_callbacks),
            60,
            "assign open callbacks to advisers on shift",
        ),
        Job(
            "return-to-pool",
            in_transaction(return_to_pool),
            60,
            "return callbacks when a shift ends",
        ),
        Job("release-retries", in_transaction(release_retries), 60, "make due retries assignable"),
        Job(
            "warn-deadlines",
            in_transaction(warn_deadlines),
            300,
            "warn the duty officer of deadlines",
        ),
        Job(
            "start-clocks",
            in_transaction(start_clocks),
            300,
            "give deadlines once an office can open again",
        ),
        Job(
            "reconcile-recordings",
            reconcile_recordings,
            900,
            "recover messages whose webhooks were lost",
        ),
        Job("delete-recordings", delete_recordings, 3600, "delete recordings past retention"),
        Job(
            "pseudonymise-numbers",
            pseudonymise_numbers,
            3600,
            "replace callers' numbers past retention by pseudonyms",
        ),
        Job("prune-job-runs", prune_job_runs, 3600, "delete old records of job runs"),
        Job(
            "fill-statistics-facts",
            in_transaction(fill_statistics_facts),
            3600,
            "fill in what the statistics read on recent rows written without it",
        ),
    )
}
