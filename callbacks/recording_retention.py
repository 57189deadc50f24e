"""The delete-recordings job: recordings are deleted at Twilio once kept as long as allowed.

A message's recording goes `retention.recording_days` after its callback closed (completed,
unreachable or cancelled); the message's record (time, length, county) stays for the
statistics. A recording the service never filed as a message (empty, left on a number no office
lists, or older than reconcile-recordings looks) goes `retention.unfiled_recording_days` after
it was made, never sooner than reconcile-recordings could still file it. Each deletion is
written to the audit log, naming the recording and its callback, never a number.

Each recording is claimed and committed first, so a second clock leaves it alone; Twilio is
asked with no transaction open; the results are then kept in a short transaction. A recording
Twilio will not delete stays claimed as failed, and the next run tries it again. A recording
never filed is tracked by a call event keyed by its RecordingSid from the moment it is claimed,
so one that failed is retried whether or not Twilio still lists it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import Deleted, Skipped
from callbacks.jobkit import AuditLog, JobContext, claim
from callbacks.models import Callback, Message
from callbacks.states import OPEN_STATUSES
from calls import events as call_events
from calls.models import CallEvent
from helpline.db import unit_of_work
from helpline.dialer import DialerError, RecordingInfo
from helpline.settings import Settings

log = logging.getLogger("helpline.jobs")

JOB = "delete-recordings"
# A recording claimed for deletion longer ago than this was left by a run that died: another
# run may take it. Deleting at Twilio twice is harmless (the second is told it is gone).
DELETION_LEASE = timedelta(hours=1)
# Small enough that a run of Twilio's 10-second timeouts ends well within the lease.
DELETION_BATCH = 100
# The call events that track a recording never filed as a message, keyed "unfiled-recording:SID".
UNFILED_KEY = "unfiled-recording:"
DELETING, DELETED, FAILED = "recording-deleting", "recording-deleted", "recording-delete-failed"


@dataclass(frozen=True)
class Claimed:
    """A recording claimed for deletion at Twilio: a message's, or one never filed."""

    recording_sid: str
    call_sid: str
    message_id: int | None = None
    callback_id: int | None = None


def delete_recordings(
    sessions: sessionmaker[Session], ctx: JobContext, now: datetime
) -> Deleted | Skipped:
    """Delete at Twilio the recordings kept as long as allowed: messages' recordings a set time
    after their callback closed, and recordings never filed a set time after they were made."""
    if not ctx.dialer.places_calls:
        return Skipped("no Twilio credentials")
    audit = ctx.audit_log()
    with unit_of_work(sessions) as session:
        filed = _claim_filed(session, ctx.settings, now)
    deleted, failed = _delete(sessions, ctx, audit, filed, now)
    listed, unlisted = _list_unfiled(ctx, now)
    with unit_of_work(sessions) as session:
        unfiled = _claim_unfiled(session, listed, now)
    more_deleted, more_failed = _delete(sessions, ctx, audit, unfiled, now)
    failures = failed + more_failed
    if failures:
        log.warning(
            "%s recording(s) could not be deleted at Twilio; the next run retries", failures
        )
    return Deleted(
        deleted=deleted + more_deleted, failed=failures, unfiled=more_deleted, unlisted=unlisted
    )


def _delete(
    sessions: sessionmaker[Session],
    ctx: JobContext,
    audit: AuditLog,
    claimed: list[Claimed],
    now: datetime,
) -> tuple[int, int]:
    """Ask Twilio to delete each claimed recording, then keep what it did; (deleted, failed)."""
    deleted: list[Claimed] = []
    failed: list[Claimed] = []
    try:
        for item in claimed:
            try:
                ctx.dialer.delete_recording(item.recording_sid)
            except DialerError:
                failed.append(item)
            else:
                deleted.append(item)
    finally:
        # Kept even when the run is cut short: what Twilio deleted is recorded as deleted.
        with unit_of_work(sessions) as session:
            _record(session, audit, deleted, failed, now)
    return len(deleted), len(failed)


def _claim_filed(session: Session, settings: Settings, now: datetime) -> list[Claimed]:
    """Claim the messages whose callback closed `recording_days` ago (or that have none and
    were left that long ago) and whose recording is not yet deleted."""
    cutoff = now - timedelta(days=settings.retention.recording_days)
    closed_long_ago = select(Callback.id).where(
        Callback.status.not_in(OPEN_STATUSES), Callback.closed_at < cutoff
    )
    due = claim(
        session,
        select(Message)
        .where(
            Message.deleted_at.is_(None),
            or_(
                Message.callback_id.in_(closed_long_ago),
                and_(Message.callback_id.is_(None), Message.received_at < cutoff),
            ),
            or_(Message.deleting_since.is_(None), Message.deleting_since <= now - DELETION_LEASE),
        )
        .order_by(Message.received_at),
        limit=DELETION_BATCH,
    )
    for message in due:
        message.deleting_since = now
    session.flush()
    return [Claimed(m.recording_sid, m.call_sid, m.id, m.callback_id) for m in due]


def _list_unfiled(ctx: JobContext, now: datetime) -> tuple[list[RecordingInfo], bool]:
    """The recordings Twilio lists that are old enough to delete if never filed, searched
    `unfiled_search_days` back; and whether Twilio could not be asked (retried next run)."""
    retention = ctx.settings.retention
    # Never while reconcile-recordings may still file a recording as a message.
    days = max(retention.unfiled_recording_days, ctx.settings.callbacks.reconcile_days)
    until = now - timedelta(days=days)
    try:
        listed = ctx.dialer.recent_recordings(
            until - timedelta(days=retention.unfiled_search_days), until=until
        )
    except DialerError:
        log.warning("Twilio could not list recordings; recordings never filed wait a run")
        return [], True
    return [r for r in listed if r.created_at < until], False


def _claim_unfiled(session: Session, listed: list[RecordingInfo], now: datetime) -> list[Claimed]:
    """Claim recordings never filed: those tried before and failed (or left by a run that
    died), and those newly listed that no message has and no run has claimed."""
    retry = claim(
        session,
        select(CallEvent)
        .where(
            CallEvent.key.like(UNFILED_KEY + "%"),
            or_(
                CallEvent.kind == FAILED,
                and_(CallEvent.kind == DELETING, CallEvent.at <= now - DELETION_LEASE),
            ),
        )
        .order_by(CallEvent.id),
        limit=DELETION_BATCH,
    )
    claimed = []
    for event in retry:
        event.kind, event.at = DELETING, now
        claimed.append(Claimed(str(event.detail["recording_sid"]), event.call_sid))
    sids = [r.sid for r in listed]
    filed = set(
        session.scalars(select(Message.recording_sid).where(Message.recording_sid.in_(sids)))
    )
    seen = set(
        session.scalars(
            select(CallEvent.key).where(CallEvent.key.in_([UNFILED_KEY + s for s in sids]))
        )
    )
    for rec in listed:
        if len(claimed) >= DELETION_BATCH:
            break  # the rest next run
        if rec.sid in filed or UNFILED_KEY + rec.sid in seen:
            continue
        detail = {"recording_sid": rec.sid, "duration": rec.duration_s}
        # The key is unique: of two clocks claiming the same recording, one inserts the event.
        if call_events.record_event(
            session, rec.call_sid, DELETING, now, detail, UNFILED_KEY + rec.sid
        ):
            claimed.append(Claimed(rec.sid, rec.call_sid))
    session.flush()
    return claimed


def _record(
    session: Session, audit: AuditLog, deleted: list[Claimed], failed: list[Claimed], now: datetime
) -> None:
    for item in deleted:
        if item.message_id is not None:
            message = session.get_one(Message, item.message_id)
            message.deleted_at = now
            message.deleting_since = None
            call_events.record_event(
                session,
                item.call_sid,
                DELETED,
                now,
                {"recording_sid": item.recording_sid},
                key=f"deleted:{item.recording_sid}",
            )
        else:
            _unfiled_event(session, item).kind = DELETED
        audit(
            session,
            JOB,
            "recording-deleted",
            "recording",
            item.recording_sid,
            {
                "callback_id": item.callback_id,
                "message_id": item.message_id,
                "filed": item.message_id is not None,
            },
            at=now,
        )
    for item in failed:
        if item.message_id is not None:
            message = session.get_one(Message, item.message_id)
            if message.deleting_since == now:  # still this run's claim: release it for the next
                message.deleting_since = None
        else:
            event = _unfiled_event(session, item)
            if event.kind == DELETING and event.at == now:
                event.kind = FAILED
    session.flush()


def _unfiled_event(session: Session, item: Claimed) -> CallEvent:
    return session.scalars(
        select(CallEvent).where(CallEvent.key == UNFILED_KEY + item.recording_sid)
    ).one()
