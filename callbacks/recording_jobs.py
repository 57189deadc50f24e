"""The job that recovers lost messages from Twilio's list of recordings (deleting them past
retention is callbacks.recording_retention).

It holds a database transaction while it waits for Twilio (on SQLite an open transaction
is the write lock, and an incoming call would wait behind it). Each asks Twilio with no
transaction open and writes in short transactions of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import Reconciled, Skipped
from callbacks.jobkit import JobContext
from callbacks.messages import UnseenCall, keep_recording
from callbacks.models import Message
from calls import service as calls
from calls.models import Call
from helpline.db import unit_of_work
from helpline.dialer import CallInfo, DialerError, RecordingInfo
from helpline.phones import caller_number
from helpline.settings import Settings

log = logging.getLogger("helpline.jobs")


def reconcile_recordings(
    sessions: sessionmaker[Session], ctx: JobContext, now: datetime
) -> Reconciled | Skipped:
    """File any message whose webhooks never arrived, from Twilio's list of recordings; each
    in a transaction of its own, so one that fails is counted and the others are still filed."""
    if not ctx.dialer.places_calls:
        return Skipped("no Twilio credentials")
    listed = ctx.dialer.recent_recordings(
        now - timedelta(days=ctx.settings.callbacks.reconcile_days)
    )
    with unit_of_work(sessions) as session:
        known, known_calls = _known(session, listed)
    lost = [r for r in listed if r.sid not in known and r.duration_s > 0]
    found, failed = _describe(ctx, lost, known_calls)
    recovered = 0
    for rec, info in found:
        try:
            with unit_of_work(sessions) as session:
                recovered += _file(session, ctx.settings, rec, info, now)
        except Exception as exc:
            # One recording that cannot be filed must not cost the others theirs; the next
            # run tries it again.
            log.error("recording %s could not be filed: %s", rec.sid, type(exc).__name__)
            failed += 1
    if recovered:
        log.warning("recovered %s message(s) that no webhook had delivered", recovered)
    return Reconciled(checked=len(listed), recovered=recovered, failed=failed)


def _known(session: Session, listed: list[RecordingInfo]) -> tuple[set[str], set[str]]:
    """Which of the recordings the service already has with their calls, and which of their
    calls it has. A message filed before its call was known (only the recording's status
    callback arrived, which names no caller) is not known yet: its call must be found."""
    sids = [r.sid for r in listed]
    call_sids = list({r.call_sid for r in listed})
    known = set(
        session.scalars(
            select(Message.recording_sid).where(
                Message.recording_sid.in_(sids), Message.call_id.is_not(None)
            )
        )
    )
    known_calls = set(session.scalars(select(Call.sid).where(Call.sid.in_(call_sids))))
    return known, known_calls


def _describe(
    ctx: JobContext, lost: list[RecordingInfo], known_calls: set[str]
) -> tuple[list[tuple[RecordingInfo, CallInfo | None]], int]:
    """The lost recordings to file, each with Twilio's account of its call when the service
    never saw the call (None when it did), and how many calls Twilio failed to describe."""
    found: list[tuple[RecordingInfo, CallInfo | None]] = []
    asked: dict[str, CallInfo | None] = {}
    failed = 0
    for rec in lost:
        if rec.call_sid in known_calls:
            found.append((rec, None))
            continue
        if rec.call_sid not in asked:
            try:
                asked[rec.call_sid] = ctx.dialer.fetch_call(rec.call_sid)
            except DialerError:
                failed += 1
                continue
        info = asked[rec.call_sid]
        if info is None or ctx.settings.office_for_number(info.to_number) is None:
            continue  # not a call to the helpline (an outbound call, say), or one Twilio forgot
        found.append((rec, info))
    return found, failed


def _file(
    session: Session, settings: Settings, rec: RecordingInfo, info: CallInfo | None, now: datetime
) -> int:
    """File one lost recording (and its call, if never seen), or give a message filed without
    its call that call; 1 if done, 0 if already there."""
    filed = session.scalar(select(Message).where(Message.recording_sid == rec.sid))
    if filed is not None and filed.call_id is not None:
        return 0  # a late webhook, or another clock, filed it meanwhile
    if info is None:
        if calls.find_call(session, rec.call_sid) is None:
            return 0  # known when listed, so never the case: calls are not deleted
        unseen = None
    else:
        ended = rec.created_at + timedelta(seconds=rec.duration_s)
        unseen = UnseenCall(caller_number(info.from_number), info.to_number, rec.created_at, ended)
    keep_recording(
        session,
        settings,
        recording_sid=rec.sid,
        call_sid=rec.call_sid,
        duration_s=rec.duration_s,
        now=now,
        received_at=rec.created_at,
        unseen=unseen,
    )
    return 1
