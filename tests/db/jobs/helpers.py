"""What the job tests share: making callbacks and looking at them as staff do, a Twilio that
cannot be reached, and emptying a database that a test committed to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

import helpline.migrations.models  # noqa: F401 - every table in Base.metadata for delete_everything
from callbacks import filing
from callbacks.messages import record_message
from callbacks.models import Callback, CallbackEvent, DeadlineWarning, Message
from callbacks.report import list_callbacks
from calls import service as calls
from helpline.db import Base
from helpline.dialer import CallInfo, DialerError, RecordingInfo
from helpline.settings import Settings
from tests.constants import ACCOUNT, HEREFORD

# A message whose webhooks never arrived, and its call.
LOST_CALL = "CA" + "1" * 32
LOST_RECORDING = "RE" + "1" * 32


def new_callback(
    session: Session, settings: Settings, phone: str, office: str, now: datetime
) -> Callback:
    callback, created = filing.callback_for(session, settings, phone, office, now)
    assert created
    return callback


def holder(session: Session, callback: Callback) -> str | None:
    session.refresh(callback)
    return callback.assigned_to.name if callback.assigned_to else None


def listed(session: Session, now: datetime, callback_id: int) -> dict[str, Any]:
    """The callback as `helpline callbacks list --json` shows it."""
    return next(c for c in list_callbacks(session, now) if c["id"] == callback_id)


def events(session: Session, callback: Callback, kind: str) -> list[CallbackEvent]:
    return list(
        session.scalars(
            select(CallbackEvent)
            .where(CallbackEvent.callback_id == callback.id, CallbackEvent.kind == kind)
            .order_by(CallbackEvent.id)
        )
    )


def with_policy(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(
        settings, callbacks=dataclasses.replace(settings.callbacks, **changes)
    )


def warnings_of(session: Session, callback: Callback) -> list[str]:
    return list(
        session.scalars(
            select(DeadlineWarning.kind)
            .where(DeadlineWarning.callback_id == callback.id)
            .order_by(DeadlineWarning.id)
        )
    )


class UnreachableTwilio:
    """A dialer with credentials whose API cannot be reached."""

    places_calls = True

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        raise DialerError("Twilio could not be reached")

    def fetch_call(self, sid: str) -> CallInfo | None:
        raise DialerError("Twilio could not be reached")


def old_message(
    session: Session, settings: Settings, sid: str, phone: str, days_ago: int, now: datetime
) -> Message:
    """A message received `days_ago` days before `now`, filed into its caller's callback."""
    received = now - timedelta(days=days_ago)
    call_sid = "CA" + sid[2:]
    calls.record_incoming(session, settings, call_sid, phone, HEREFORD, received)
    message = record_message(
        session, settings, recording_sid=sid, call_sid=call_sid, duration_s=30, now=received
    )
    assert message is not None
    return message


def pause_after_claim(session: Session, pause: Callable[[], object]) -> None:
    """Have `pause` called once the session's job has claimed its rows (its SELECT ... FOR
    UPDATE SKIP LOCKED has run), so that a second run can be made to overlap the first."""

    def after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "SKIP LOCKED" in statement:
            pause()

    event.listen(session.connection(), "after_cursor_execute", after_execute)


def delete_everything(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def twilio_call(sid: str, status: str, end: datetime | None, duration: int | None) -> Any:
    """A call as Twilio's REST API describes it."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "status": status,
        "start_time": "Mon, 30 Nov 2026 10:00:00 +0000",
        "end_time": end.strftime("%a, %d %b %Y %H:%M:%S +0000") if end else None,
        "duration": str(duration) if duration is not None else None,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
    }


def inbound_call(sid: str, from_: str, to: str) -> dict[str, Any]:
    """A call to the helpline as Twilio's REST API describes it, from `from_` to `to`."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "from": from_,
        "to": to,
        "direction": "inbound",
        "status": "completed",
        "start_time": "Mon, 30 Nov 2026 09:28:40 +0000",
        "end_time": "Mon, 30 Nov 2026 09:30:45 +0000",
        "duration": "125",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
    }


def recording(
    sid: str, call_sid: str, duration: str = "42", created: datetime | None = None
) -> dict[str, Any]:
    """A recording as Twilio's REST API lists it (made at 09:30 on Monday unless `created`)."""
    made = created.strftime("%a, %d %b %Y %H:%M:%S +0000") if created else None
    return {
        "sid": sid,
        "call_sid": call_sid,
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "duration": duration,
        "date_created": made or "Mon, 30 Nov 2026 09:30:00 +0000",
        "date_updated": made or "Mon, 30 Nov 2026 09:30:45 +0000",
        "start_time": made or "Mon, 30 Nov 2026 09:29:58 +0000",
        "status": "completed",
        "channels": 1,
        "source": "RecordVerb",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}.json",
    }


def recordings_page(*items: dict[str, Any]) -> dict[str, Any]:
    """One page of Twilio's list of recordings."""
    uri = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings.json?PageSize=100&Page=0"
    return {
        "recordings": list(items),
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": 100,
        "start": 0,
        "end": max(len(items) - 1, 0),
        "uri": uri,
    }
