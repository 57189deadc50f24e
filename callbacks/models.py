"""The callback queue's records: messages left on the answer machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.db import Base


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
    deleted_at: Mapped[datetime | None]
