"""A callback's page: its messages, attempts, notes and a history in words; and who may open
it and listen to its messages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callbacks import attempts, desk, filing, staff_actions
from callbacks.common import CallbackError
from callbacks.messages import record_message
from callbacks.models import Callback
from callbacks.page import NotYours, callback_page
from callbacks.recordings import NoRecording, listen, recording_for_listener
from calls import service as calls
from helpline.dialer import ByteRange, tone_wav
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.constants import ANN, BEN, CAT, HEREFORD, MONDAY, PARENT, WORCS
from tests.factories import Clock, adviser

REC_1 = "RE" + "1" * 32
REC_2 = "RE" + "2" * 32


def message_from_parent(
    session: Session, settings: Settings, clock: Clock, recording: str, to: str
) -> Callback:
    call_sid = "CA" + recording[2:]
    calls.record_incoming(session, settings, call_sid, PARENT, to, clock())
    message = record_message(
        session, settings, recording_sid=recording, call_sid=call_sid, duration_s=25, now=clock()
    )
    assert message is not None and message.callback is not None
    return message.callback


def worked_callback(session: Session, settings: Settings, clock: Clock) -> Callback:
    """A parent's two messages, assigned to Ann, then Ben; one attempt with no answer; a note."""
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    ben = adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    callback = message_from_parent(session, settings, clock, REC_1, HEREFORD)
    clock.advance(minutes=5)
    message_from_parent(session, settings, clock, REC_2, WORCS)
    staff_actions.assign(session, callback, ann, "Dana Duty", clock())
    staff_actions.assign(session, callback, ben, "Dana Duty", clock())
    attempts.start_attempt(session, callback, ben, "Ben Birch", clock())
    attempts.record_outcome(
        session, settings, callback, "no-answer", "Ben Birch", clock(), note="Rang twice."
    )
    return callback


def test_the_page_shows_messages_attempts_notes_and_a_history_in_words(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback = worked_callback(session, settings, clock)

    page = callback_page(session, settings, callback.id, clock(), adviser_id=None, may_see_all=True)

    assert [(m.recording_sid, m.duration_s, m.office) for m in page.messages] == [
        (REC_1, 25, "herefordshire"),
        (REC_2, 25, "worcestershire"),
    ]
    assert [(a.adviser, a.outcome, a.outcome_source) for a in page.attempts] == [
        ("Ben Birch", "no-answer", "adviser")
    ]
    assert [(n.author, n.text) for n in page.notes] == [("Ben Birch", "Rang twice.")]
    assert [(h.actor, h.text) for h in page.history] == [
        ("service", "Callback created from a message (Herefordshire)"),
        ("service", "A new message joined (Worcestershire)"),
        ("Dana Duty", "Assigned to Ann Ash"),
        ("Dana Duty", "Reassigned from Ann Ash to Ben Birch"),
        ("Ben Birch", "Call-back attempt started"),
        ("Ben Birch", "Outcome: no answer; a retry will follow"),
    ]
    assert page.row.attempt_label == "attempt 2 of 3"


def test_closing_shows_the_reason_in_the_history(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    desk.close(
        session, callback.id, "the parent rang again", "Dana Duty", clock(), expected_version=None
    )

    page = callback_page(session, settings, callback.id, clock(), adviser_id=None, may_see_all=True)

    assert page.history[-1].text == "Closed: the parent rang again"
    assert page.close_reason == "the parent rang again"


def test_an_adviser_opens_only_a_callback_assigned_to_them(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback = worked_callback(session, settings, clock)
    ben = callback.attempts[0].adviser
    assert ben is not None
    staff_actions.assign(session, callback, ben, "Dana Duty", clock())  # back from the pool
    cat = adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    ben_id = ben.id

    assert (
        callback_page(
            session, settings, callback.id, clock(), adviser_id=ben_id, may_see_all=False
        ).row.callback_id
        == callback.id
    )
    with pytest.raises(NotYours):
        callback_page(session, settings, callback.id, clock(), adviser_id=cat.id, may_see_all=False)
    with pytest.raises(NotYours):
        callback_page(session, settings, callback.id, clock(), adviser_id=None, may_see_all=False)
    with pytest.raises(CallbackError, match="no callback"):
        callback_page(
            session, settings, callback.id + 99, clock(), adviser_id=None, may_see_all=True
        )


def test_only_the_assigned_adviser_or_someone_who_sees_all_may_listen(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    ben = adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    callback = message_from_parent(session, settings, clock, REC_1, HEREFORD)
    staff_actions.assign(session, callback, ann, "Dana Duty", clock())

    heard = recording_for_listener(session, REC_1, ann.id, may_see_all=False)

    assert (heard.callback_id, heard.duration_s, heard.office) == (callback.id, 25, "herefordshire")
    assert (
        recording_for_listener(session, REC_1, None, may_see_all=True).message_id
        == heard.message_id
    )
    with pytest.raises(NotYours):
        recording_for_listener(session, REC_1, ben.id, may_see_all=False)
    with pytest.raises(NoRecording):
        recording_for_listener(session, REC_2, None, may_see_all=True)
    callback.messages[0].deleted_at = clock()
    with pytest.raises(NoRecording, match="retention"):
        recording_for_listener(session, REC_1, ann.id, may_see_all=False)


def test_listening_plays_the_audio_through_the_dialer_a_range_at_a_time(
    sessions: sessionmaker[Session], runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    with sessions() as setup:
        message_from_parent(setup, settings, clock, REC_1, HEREFORD)
        setup.commit()

    whole = listen(runtime, REC_1, None, True)
    later = listen(runtime, REC_1, None, True, ByteRange(100, 199))

    sound = tone_wav()
    assert (whole.audio.status, whole.audio.content_type) == (200, "audio/wav")
    assert whole.audio.read() == sound and whole.is_listen
    assert later.audio.status == 206 and not later.is_listen
    assert later.audio.read() == sound[100:200]
    assert later.audio.content_range == f"bytes 100-199/{len(sound)}"
    with pytest.raises(NotYours):
        listen(runtime, REC_1, 12345, False)
