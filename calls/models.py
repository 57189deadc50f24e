"""The call log: every call, every adviser rung for it, and every event Twilio reported."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, SmallInteger, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from calls.states import CallOutcome, LegState
from helpline.db import Base, StrEnumType
from rota.models import Adviser


class Call(Base):
    """One inbound call to a county's helpline number, identified by Twilio's CallSid."""

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(20))  # E.164; None when withheld
    to_number: Mapped[str] = mapped_column(String(32))
    office: Mapped[str] = mapped_column(String(40), index=True)  # the county rung
    status: Mapped[str] = mapped_column(String(20), default="ringing")
    last_sequence: Mapped[int | None]
    outcome: Mapped[CallOutcome | None] = mapped_column(StrEnumType(CallOutcome, 30))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    answered_office: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(index=True)
    # Where started_at falls on the service's clock (`[service] timezone`), kept so that the
    # statistics filter and group a year of calls by plain columns: the local date, and the
    # hour of the week (Monday 00:00 = 0 ... Sunday 23:00 = 167).
    local_date: Mapped[date | None] = mapped_column(index=True)
    week_hour: Mapped[int | None] = mapped_column(SmallInteger)
    answered_at: Mapped[datetime | None]
    reached_answer_machine_at: Mapped[datetime | None]
    callback_requested_at: Mapped[datetime | None]  # chose "call me back" instead of waiting
    message_left: Mapped[bool] = mapped_column(default=False)
    callback_number: Mapped[str | None] = mapped_column(String(20))  # keyed in and confirmed
    keyed_number: Mapped[str | None] = mapped_column(String(20))  # keyed in, not yet confirmed
    number_tries: Mapped[int] = mapped_column(default=0, server_default="0")
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None]
    # Kept for the statistics, so that a year of them reads the calls alone: whether any
    # adviser's phone was rung for the call (set when it ends), and the talk on the answering
    # leg, from the adviser's 1 to the end of their leg (set when that leg ends).
    adviser_rung: Mapped[bool] = mapped_column(default=False, server_default=false())
    talk_s: Mapped[float | None] = mapped_column(Float)

    answered_by: Mapped[Adviser | None] = relationship()
    legs: Mapped[list[CallLeg]] = relationship(back_populates="call", order_by="CallLeg.id")


TALKING = "ended_at IS NULL AND state = 'accepted'"  # an open leg the adviser accepted


class CallLeg(Base):
    """One adviser rung for one call: ringing, then accepted, declined or not answered."""

    __tablename__ = "call_leg"
    __table_args__ = (
        # Routing reads whether an adviser is being rung, and its claim checks their open legs
        # afresh, through these (see calls.claim): the open legs by start, and the open
        # conversations, however many legs were left open before.
        Index(
            "ix_call_leg_open_by_adviser",
            "adviser_id",
            "started_at",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        Index(
            "ix_call_leg_talking_by_adviser",
            "adviser_id",
            "accepted_at",
            postgresql_where=text(TALKING),
            sqlite_where=text(TALKING),
        ),
        # Routing reads each adviser's last ring today through it (see calls.claim).
        Index("ix_call_leg_adviser_started", "adviser_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id"))
    office: Mapped[str] = mapped_column(String(40))
    dial_sid: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[LegState] = mapped_column(StrEnumType(LegState, 20), default=LegState.RINGING)
    started_at: Mapped[datetime]
    picked_up_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship(back_populates="legs")
    adviser: Mapped[Adviser] = relationship()


class CallEvent(Base):
    """Something that happened to a call, kept for statistics; `key` makes repeats harmless."""

    __tablename__ = "call_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
