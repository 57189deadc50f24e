"""The delete-recordings job: a message's recording is deleted at Twilio a set time after its
callback closed, a recording never filed a set time after it was made; each deletion is
audited, and the message's record stays for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import responses
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import AuditEntry
from callbacks import attempts, common, staff_actions
from callbacks.job_results import Deleted, JobResult, Skipped
from callbacks.jobs import delete_recordings
from callbacks.models import Message
from helpline.settings import Settings
from tests.constants import API, OTHER_PARENT, PARENT, RECORDINGS_URL, parent
from tests.db.jobs.helpers import (
    UnreachableTwilio,
    old_message,
    recording,
    recordings_page,
    with_policy,
)
from tests.factories import Clock
from webhooks.twilio_dialer import TwilioDialer


def closed(session: Session, message: Message, at: datetime) -> Message:
    """Close the message's callback (cancelled by the duty officer) at `at`."""
    staff_actions.close(session, common.get(session, message.callback_id or 0), "sorted", "Ann", at)
    return message


def deletions(session: Session) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "recording-deleted")
            .order_by(AuditEntry.id)
        )
    )


def deleted_at_twilio(twilio: responses.RequestsMock) -> list[str]:
    return [
        (c.request.url or "").rsplit("/", 1)[1].removesuffix(".json")
        for c in twilio.calls
        if c.request.method == "DELETE"
    ]


def test_a_recording_is_deleted_a_set_time_after_its_callback_closed(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    twilio.get(RECORDINGS_URL, json=recordings_page())
    # Completed 181 days ago: due (180 days by default).
    spoken = old_message(session, settings, "RE" + "a" * 32, PARENT, 200, now)
    attempts.record_outcome(
        session,
        settings,
        common.get(session, spoken.callback_id or 0),
        "spoke",
        "Ann",
        now - timedelta(days=181),
    )
    # Left 400 days ago, but its callback closed only 10 days ago: kept.
    lately_closed = closed(
        session,
        old_message(session, settings, "RE" + "b" * 32, OTHER_PARENT, 400, now),
        now - timedelta(days=10),
    )
    # Left 300 days ago and still open: kept, however old.
    still_open = old_message(session, settings, "RE" + "c" * 32, parent(7), 300, now)
    # Cancelled 190 days ago: due.
    cancelled = closed(
        session,
        old_message(session, settings, "RE" + "d" * 32, parent(8), 195, now),
        now - timedelta(days=190),
    )
    for message in (spoken, cancelled):
        twilio.delete(f"{API}/Recordings/{message.recording_sid}.json", status=204)

    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=2, failed=0)

    assert sorted(deleted_at_twilio(twilio)) == sorted(
        [spoken.recording_sid, cancelled.recording_sid]
    )
    for message in (spoken, lately_closed, still_open, cancelled):
        session.refresh(message)
    assert spoken.deleted_at == now and cancelled.deleted_at == now
    assert spoken.duration_s == 30  # the message's record stays for the statistics
    assert lately_closed.deleted_at is None and still_open.deleted_at is None
    audited = deletions(session)
    assert [(e.actor_id, e.actor_email, e.subject_type) for e in audited] == [
        (None, "system: delete-recordings", "recording")
    ] * 2
    assert {e.subject_id: e.detail["callback_id"] for e in audited} == {
        spoken.recording_sid: spoken.callback_id,
        cancelled.recording_sid: cancelled.callback_id,
    }
    assert not any("+44" in str(e.detail) for e in audited)

    # A second run finds nothing more to do; the lately closed one goes in its own time.
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=0, failed=0)
    assert len(deleted_at_twilio(twilio)) == 2
    later = now + timedelta(days=171)
    twilio.delete(f"{API}/Recordings/{lately_closed.recording_sid}.json", status=204)
    assert run(delete_recordings, later, dialer=twilio_dialer) == Deleted(deleted=1, failed=0)
    assert deleted_at_twilio(twilio)[-1] == lately_closed.recording_sid


def test_recordings_never_filed_are_deleted_once_past_their_own_period(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    filed = old_message(session, settings, "RE" + "e" * 32, PARENT, 10, now)
    empty = recording("RE" + "1" * 32, "CA" + "1" * 32, "0", now - timedelta(days=8))
    elsewhere = recording("RE" + "2" * 32, "CA" + "2" * 32, "40", now - timedelta(days=20))
    mine = recording(filed.recording_sid, filed.call_sid, "30", now - timedelta(days=10))
    twilio.get(RECORDINGS_URL, json=recordings_page(empty, elsewhere, mine))
    for sid in (empty["sid"], elsewhere["sid"]):
        twilio.delete(f"{API}/Recordings/{sid}.json", status=204)

    result = run(delete_recordings, now, dialer=twilio_dialer)

    assert result == Deleted(deleted=2, failed=0, unfiled=2)
    # Twilio was asked for the recordings made 7 to 37 days ago.
    listing = twilio.calls[0].request.url or ""
    assert "DateCreated%3E=2026-10-24T10%3A00%3A00Z" in listing
    assert "DateCreated%3C=2026-11-23T10%3A00%3A00Z" in listing
    assert sorted(deleted_at_twilio(twilio)) == sorted([empty["sid"], elsewhere["sid"]])
    session.refresh(filed)
    assert filed.deleted_at is None  # its callback is open: the message's recording stays
    audited = deletions(session)
    assert sorted(e.subject_id or "" for e in audited) == sorted([empty["sid"], elsewhere["sid"]])
    assert all(
        e.detail == {"callback_id": None, "message_id": None, "filed": False} for e in audited
    )

    assert run(delete_recordings, now + timedelta(hours=1), dialer=twilio_dialer) == Deleted(
        deleted=0, failed=0
    )
    assert len(deleted_at_twilio(twilio)) == 2


def test_never_filed_waits_while_reconcile_recordings_could_still_file_it(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    settings = with_policy(settings, reconcile_days=14)  # raised after an outage
    young = recording("RE" + "3" * 32, "CA" + "3" * 32, "40", now - timedelta(days=10))
    twilio.get(RECORDINGS_URL, json=recordings_page(young))

    result = run(delete_recordings, now, with_settings=settings, dialer=twilio_dialer)

    assert result == Deleted(deleted=0, failed=0)
    assert "DateCreated%3C=2026-11-16T10%3A00%3A00Z" in (twilio.calls[0].request.url or "")


def test_a_recording_twilio_will_not_delete_is_tried_again_next_run(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = closed(
        session,
        old_message(session, settings, "RE" + "d" * 32, PARENT, 400, now),
        now - timedelta(days=200),
    )
    never_filed = recording("RE" + "4" * 32, "CA" + "4" * 32, "0", now - timedelta(days=9))
    twilio.get(RECORDINGS_URL, json=recordings_page(never_filed))
    refused = {"code": 20500, "message": "oops", "status": 500}
    urls = [f"{API}/Recordings/{sid}.json" for sid in (message.recording_sid, never_filed["sid"])]
    for url in urls:
        twilio.delete(url, status=500, json=refused)
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=0, failed=2)
    assert deletions(session) == []

    # Next run Twilio no longer lists the one never filed; it is tried again all the same.
    twilio.replace(responses.GET, RECORDINGS_URL, json=recordings_page())
    for url in urls:
        twilio.replace(responses.DELETE, url, status=204)
    later = now + timedelta(hours=1)
    assert run(delete_recordings, later, dialer=twilio_dialer) == Deleted(
        deleted=2, failed=0, unfiled=1
    )
    assert len(deletions(session)) == 2
    assert run(delete_recordings, later, dialer=twilio_dialer) == Deleted(deleted=0, failed=0)
    assert run(delete_recordings, now) == Skipped("no Twilio credentials")


def test_twilio_out_of_reach_for_the_list_still_deletes_the_messages_due(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = closed(
        session,
        old_message(session, settings, "RE" + "5" * 32, PARENT, 400, now),
        now - timedelta(days=200),
    )
    twilio.delete(f"{API}/Recordings/{message.recording_sid}.json", status=204)
    # No list registered: asking for it fails as an unreachable Twilio does.
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(
        deleted=1, failed=0, unlisted=True
    )


class DyingTwilio(UnreachableTwilio):
    """The scheduler's process is killed while it waits for Twilio to delete a recording."""

    def delete_recording(self, sid: str) -> None:
        raise KeyboardInterrupt


def test_a_recording_claimed_by_a_run_that_died_is_deleted_an_hour_later(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = closed(
        session,
        old_message(session, settings, "RE" + "f" * 32, PARENT, 400, now),
        now - timedelta(days=200),
    )
    twilio.get(RECORDINGS_URL, json=recordings_page())
    twilio.delete(f"{API}/Recordings/{message.recording_sid}.json", status=204)
    with pytest.raises(KeyboardInterrupt):
        run(delete_recordings, now, dialer=DyingTwilio())

    # Soon after, the claim may still be another clock's, slow at Twilio: it is left alone.
    soon = now + timedelta(minutes=5)
    assert run(delete_recordings, soon, dialer=twilio_dialer) == Deleted(deleted=0, failed=0)
    later = now + timedelta(hours=1, minutes=1)
    assert run(delete_recordings, later, dialer=twilio_dialer) == Deleted(deleted=1, failed=0)
    session.refresh(message)
    assert message.deleted_at == later
