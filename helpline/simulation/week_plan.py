"""The week that `simulate week` plays, planned from a seed: when calls arrive in each county,
who rings, how long they talk or leave a message, and how the advisers' phones answer."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from helpline.demo import ADVISERS
from helpline.settings import Settings
from helpline.simulation.simulated_call import Answer
from helpline.simulation.simulator import SimulatedClock
from rota.calendar import OfficeCalendar, bank_holidays, local_instant

# Calls by local hour on an open day: few before nine, a mid-morning peak, a smaller one after
# lunch, and a trickle in the evening and night, when only the answer machine is there.
OPEN_DAY_HOURS = (
    *(0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.5, 6.0, 9.0, 8.0),
    *(5.0, 4.5, 5.5, 5.0, 3.5, 1.5, 1.0, 0.8, 0.6, 0.4, 0.3, 0.2),
)
CLOSED_DAY_HOURS = (
    *(0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.0),
    *(2.5, 2.5, 2.5, 2.5, 2.0, 2.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.2),
)
WEEKDAY_FACTOR = (1.2, 1.05, 1.0, 0.95, 0.8, 0.5, 0.4)  # Monday is busiest; weekends quiet
CLOSED_WEEKEND_FACTOR = 0.08  # a closed weekend brings few calls
CLOSED_WEEKDAY_FACTOR = 0.3  # more ring on a bank holiday, not knowing it is one
SHARE = {"herefordshire": 0.42, "worcestershire": 0.58}  # Worcestershire is the larger county
ACCEPTS = {"Alex Adams": 0.85, "Bryn Bowen": 0.75, "Cara Clarke": 0.8, "Dev Desai": 0.55}


@dataclass(frozen=True)
class PlannedCall:
    """One call of the week, as the seed decided it."""

    at: datetime
    office: str
    caller: str | None
    digits: tuple[str, ...]
    talk_seconds: int
    message_seconds: int
    hang_up_after: float | None = None
    hang_up_at: str | None = None


def _at(rng: random.Random, day: date, weights: Sequence[float], settings: Settings) -> datetime:
    hour = rng.choices(range(24), weights=weights)[0]
    moment = time(hour, rng.randrange(60), rng.randrange(60))
    return local_instant(day, moment, settings.timezone)


def plan_week(
    settings: Settings, first_day: date, seed: int, calls_per_day: int
) -> list[PlannedCall]:
    """The week's calls, in order of arrival; the same seed always plans the same week."""
    rng = random.Random(seed)
    numbers: list[str] = []
    planned: list[PlannedCall] = []
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        for key in settings.offices:
            share = SHARE.get(key, 1 / len(settings.offices))
            is_open = calendar(settings, key).is_working_day(day)
            if is_open:
                factor = WEEKDAY_FACTOR[day.weekday()]
            elif day.weekday() < 5:
                factor = CLOSED_WEEKDAY_FACTOR
            else:
                factor = CLOSED_WEEKEND_FACTOR
            count = round(calls_per_day * share * factor * rng.uniform(0.85, 1.15))
            weights = OPEN_DAY_HOURS if is_open else CLOSED_DAY_HOURS
            for _ in range(count):
                planned.append(_call(rng, _at(rng, day, weights, settings), key, numbers))
    planned.sort(key=lambda call: call.at)
    return planned


def _call(rng: random.Random, at: datetime, office: str, numbers: list[str]) -> PlannedCall:
    caller: str | None
    digits: tuple[str, ...] = ()
    if rng.random() < 0.08:
        caller = None  # a hidden number: most key one in for the call back
        keyed = f"07700 900{rng.randrange(100, 1000)}#"
        digits = (keyed, "1") if rng.random() < 0.7 else ("#",)
    elif numbers and rng.random() < 0.12:
        caller = rng.choice(numbers)  # someone ringing again
    else:
        caller = f"+447700900{rng.randrange(100, 1000)}"
        numbers.append(caller)
    talk = round(min(max(rng.lognormvariate(math.log(330), 0.55), 45), 1800))
    message = round(rng.triangular(8, 120, 30))
    hang_up_after, hang_up_at = None, None
    if rng.random() < 0.08:
        hang_up_after = round(rng.uniform(15, 110))  # gives up waiting
    elif rng.random() < 0.06:
        hang_up_at = "before-beep"  # will not talk to a machine
    return PlannedCall(at, office, caller, digits, talk, message, hang_up_after, hang_up_at)


class Phones:
    """The advisers' phones through the week: busy while their adviser talks, and otherwise
    answered as often as each adviser tends to."""

    def __init__(self, rng: random.Random, clock: SimulatedClock) -> None:
        self.rng = rng
        self.clock = clock
        self.accepts = {phone: ACCEPTS.get(name, 0.75) for name, phone, _ in ADVISERS}
        self.engaged: dict[str, datetime] = {}

    def answer(self, phone: str, talk_seconds: int) -> Answer:
        """What `phone` does when rung now for a call that would last `talk_seconds`."""
        now = self.clock()
        if self.engaged.get(phone, now) > now:
            return Answer("busy")
        rng = self.rng
        ring, screen, roll = rng.uniform(3, 12), rng.uniform(2, 6), rng.random()
        accepts = self.accepts.get(phone, 0.75)
        if roll < accepts:
            wrap_up = rng.uniform(60, 300)
            busy_for = ring + screen + talk_seconds + wrap_up
            self.engaged[phone] = now + timedelta(seconds=busy_for)
            return Answer("accept", ring, screen)
        rest = (roll - accepts) / (1 - accepts)
        if rest < 0.4:
            return Answer("no-answer")
        if rest < 0.65:
            return Answer("busy")  # on another line
        if rest < 0.85:
            return Answer("decline", ring, screen)
        return Answer("voicemail", rng.uniform(12, 18))


def calendar(settings: Settings, key: str) -> OfficeCalendar:
    """An office's usual calendar: its hours and the bank holidays, no closures."""
    office = settings.offices[key]
    return OfficeCalendar(office.hours, settings.timezone, bank_holidays(settings.bank_holidays))


def in_office_hours(settings: Settings, call: PlannedCall) -> bool:
    """Whether the county rung was open when the call came in."""
    return calendar(settings, call.office).is_open(call.at.astimezone(UTC))
