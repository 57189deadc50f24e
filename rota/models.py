"""Who works when: advisers, their shifts, and ad-hoc office closures."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpline.db import Base


class Adviser(Base):
    """A member of either county team, known by name; `phone` is where they are rung.

    `left_at` is set when they leave: they are rung for nothing and given no work, and a rota
    import may not give them shifts again until they are brought back. `away` is set by the
    adviser for a while on shift: they are rung for no helpline call and given no new callbacks.
    """

    __tablename__ = "adviser"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    away: Mapped[bool] = mapped_column(default=False, server_default=false())

    shifts: Mapped[list[Shift]] = relationship(back_populates="adviser")


class Shift(Base):
    """One adviser's working block on one local date, at one office (and so for its team)."""

    __tablename__ = "shift"
    __table_args__ = (UniqueConstraint("adviser_id", "day", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id"), index=True)
    office: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(index=True)
    start: Mapped[time]
    end: Mapped[time]
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    duty_officer: Mapped[bool] = mapped_column(default=False)

    adviser: Mapped[Adviser] = relationship(back_populates="shifts")


class Closure(Base):
    """An ad-hoc closure of an office: training, staff absence, the Christmas shutdown."""

    __tablename__ = "closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(40), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
