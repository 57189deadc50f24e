"""The delete-recordings job: recordings past retention are deleted at Twilio once their
callback is closed, and the message's record stays for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import responses
from sqlalchemy.orm import Session

from callbacks import attempts, common, staff_actions
from callbacks.job_results import Deleted, JobResult, Skipped
from callbacks.jobs import delete_recordings
from helpline.settings import Settings
from tests.constants import API, OTHER_PARENT, PARENT
from tests.db.jobs.helpers import UnreachableTwilio, old_message
from tests.factories import Clock
from webhooks.twilio_dialer import TwilioDialer


def test_recordings_past_retention_are_deleted_at_twilio_once_their_callback_is_closed(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    done = old_message(session, settings, "RE" + "a" * 32, PARENT, 200, now)
    attempts.record_outcome(
        session,
        settings,
        common.get(session, done.callback_id or 0),
        "spoke",
        "Ann",
        now - timedelta(days=199),
    )
    still_open = old_message(session, settings, "RE" + "b" * 32, OTHER_PARENT, 200, now)
    recent = old_message(session, settings, "RE" + "c" * 32, "+447700900777", 10, now)
    staff_actions.close(session, common.get(session, recent.callback_id or 0), "sorted", "Ann", now)
    twilio.delete(f"{API}/Recordings/{done.recording_sid}.json", status=204)

    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=1, failed=0)
    session.refresh(done)
    session.refresh(still_open)
    session.refresh(recent)
    assert done.deleted_at is not None and done.duration_s == 30  # the statistics stay
    assert still_open.deleted_at is None and recent.deleted_at is None
    assert [c.request.method for c in twilio.calls] == ["DELETE"]
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=0, failed=0)
    assert len(twilio.calls) == 1


def test_a_recording_twilio_will_not_delete_is_tried_again_next_run(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = old_message(session, settings, "RE" + "d" * 32, PARENT, 400, now)
    staff_actions.close(
        session, common.get(session, message.callback_id or 0), "sorted", "Ann", now
    )
    url = f"{API}/Recordings/{message.recording_sid}.json"
    twilio.delete(url, status=500, json={"code": 20500, "message": "oops", "status": 500})
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=0, failed=1)
    twilio.replace(responses.DELETE, url, status=204)
    assert run(delete_recordings, now, dialer=twilio_dialer) == Deleted(deleted=1, failed=0)
    assert run(delete_recordings, now) == Skipped("no Twilio credentials")


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
    message = old_message(session, settings, "RE" + "f" * 32, PARENT, 400, now)
    staff_actions.close(
        session, common.get(session, message.callback_id or 0), "sorted", "Ann", now
    )
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
