"""The callback queue's records: messages, callbacks, attempts, notes, warnings, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbacks.states import AttemptOutcome, CallbackStatus
from helpline.db import Base, StrEnumType
from rota.models import Adviser


class Callback(Base):
    """A promise to call someone back: one open callback per caller number."""

    __tablename__ = "callback"
    __table_args__ = (
        # One open callback per number, enforced by the database so that two messages from the
        # same caller arriving together still make one callback.
        Index(
            "uq_callback_open_phone",
            "phone",
            unique=True,
            postgresql_where=text("status IN ('open', 'assigned')"),
            sqlite_where=text("status IN ('open', 'assigned')"),
        ),
        # The oldest open callback of each county, for the statistics, without a scan.
        Index(
            "ix_callback_open_created",
            "office",
            "created_at",
            postgresql_where=text("status IN ('open', 'assigned')"),
            sqlite_where=text("status IN ('open', 'assigned')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; None: the caller gave none
    office: Mapped[str] = mapped_column(String(40), index=True)  # county of the first message
    status: Mapped[CallbackStatus] = mapped_column(
        StrEnumType(CallbackStatus, 20), default=CallbackStatus.OPEN, index=True
    )
    # None while the office has no opening in sight: the clock starts when it next opens.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime | None]
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"), index=True)
    assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    # When the first attempt placed through Twilio started (the statistics' "first attempt
    # within the promise" reads it rather than every attempt).
    first_attempt_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own hook

    assigned_to: Mapped[Adviser | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="callback", order_by="(Message.received_at, Message.id)"
    )
    attempts: Mapped[list[Attempt]] = relationship(back_populates="callback", order_by="Attempt.id")
    notes: Mapped[list[Note]] = relationship(back_populates="callback", order_by="Note.id")
    warnings: Mapped[list[DeadlineWarning]] = relationship(
        back_populates="callback", order_by="DeadlineWarning.id"
    )


class Message(Base):
    """One recording left on the answer machine, tracked by Twilio's RecordingSid."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    office: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))  # number to call back, E.164
    duration_s: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]  # when its recording was deleted at Twilio
    # When a delete-recordings run claimed it, so that a second clock leaves it alone.
    deleting_since: Mapped[datetime | None]
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id"), index=True)

    callback: Mapped[Callback | None] = relationship(back_populates="messages")


# An attempt that counts as an adviser's work in the statistics (helpline/statistics/work.py).
WORK_ATTEMPT = "adviser_id IS NOT NULL AND (outcome = 'spoke' OR parent_seconds > 0)"


class Attempt(Base):
    """One try at calling a parent back: the adviser rung first, then the parent."""

    __tablename__ = "attempt"
    __table_args__ = (
        # The attempts the statistics count (the adviser's work: a callback completed, or time
        # with the parent), with what they read, so a year of them is read from the index alone.
        Index(
            "ix_attempt_work",
            "started_at",
            postgresql_include=["adviser_id", "team", "office", "outcome", "parent_seconds"],
            postgresql_where=text(WORK_ATTEMPT),
            sqlite_where=text(WORK_ATTEMPT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id"), index=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    # The callback's county, and the office whose team the adviser worked for when the
    # attempt started (rota.teams): kept on the attempt for the statistics.
    office: Mapped[str | None] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    adviser_status: Mapped[str | None] = mapped_column(String(20))  # the adviser's leg
    parent_status: Mapped[str | None] = mapped_column(String(20))  # the parent's leg
    parent_seconds: Mapped[int | None]
    placed: Mapped[bool] = mapped_column(default=False)  # False: logged only, no Twilio
    outcome: Mapped[AttemptOutcome | None] = mapped_column(StrEnumType(AttemptOutcome, 20))
    # Who gave an outcome of states.OUTCOMES: 'twilio' (recorded automatically from Twilio's
    # report, which the adviser's word may replace) or 'adviser' (a person's word).
    outcome_source: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)

    callback: Mapped[Callback] = relationship(back_populates="attempts")
    adviser: Mapped[Adviser | None] = relationship()


class Note(Base):
    """A note on a callback by a member of staff."""

    __tablename__ = "callback_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id"), index=True)
    author: Mapped[str] = mapped_column(String(120))  # the person's name, as the history shows
    # The staff account that wrote it, if any (the scheduler and the command line have none).
    author_account_id: Mapped[int | None] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    callback: Mapped[Callback] = relationship(back_populates="notes")


class DeadlineWarning(Base):
    """A warning for the duty officer: a callback's deadline is near, or has passed."""

    __tablename__ = "deadline_warning"
    __table_args__ = (UniqueConstraint("callback_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # due-soon | overdue
    created_at: Mapped[datetime]

    callback: Mapped[Callback] = relationship(back_populates="warnings")


class CallbackEvent(Base):
    """Something that happened to a callback, kept for audit and statistics."""

    __tablename__ = "callback_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobRun(Base):
    """One run of a scheduled job, for `helpline jobs list` and after-outage checks."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(String(400), default="")
