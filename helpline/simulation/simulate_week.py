"""A week of history for the demo: calls planned from a seed and played side by side on one
simulated clock, through the signed webhooks, with the scheduler's jobs run as time passes.

The demo keeps its offices open all day so that a call can be tried at any hour; the week is
played with the offices' usual hours and England's bank holidays (config/defaults.toml), so
that it looks like a real week: calls peak mid-morning, messages come in out of hours.
"""

from __future__ import annotations

import logging
import random
import time as timer
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.jobs import JOBS, JobContext
from callbacks.models import Callback
from calls.models import Call
from calls.states import CallOutcome
from helpline import settings as settings_module
from helpline.app import create_app, database_engine
from helpline.db import session_factory, unit_of_work
from helpline.demo import ADVISERS, leavers, week_csv
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.simulation.simulate_callbacks import HandingDialer, adviser_at_work
from helpline.simulation.simulated_call import Result, Script
from helpline.simulation.simulator import (
    CallPlayer,
    FlaskTransport,
    Process,
    SimulatedClock,
    play_together,
)
from helpline.simulation.week_plan import Phones, PlannedCall, in_office_hours, plan_week
from rota.calendar import bank_holidays, local_instant
from rota.importer import import_rota

JOB_NAMES = ("release-retries", "return-to-pool", "assign-callbacks", "warn-deadlines")
JOB_HOURS = (8, 18)  # local hours, first and last, at which the jobs are run


class WeekError(ValueError):
    """The week cannot be played; the message says why and what to do."""


def usual_hours(settings: Settings) -> Settings:
    """The settings with each office's usual hours and the usual bank holidays, from the
    defaults, in place of the demo's all-day opening."""
    raw = settings_module.load_toml(settings_module.DEFAULTS_FILE)
    usual = settings_module.from_mapping(raw, {})
    offices = {
        key: replace(office, hours=usual.offices[key].hours) if key in usual.offices else office
        for key, office in settings.offices.items()
    }
    return replace(settings, offices=offices, bank_holidays=usual.bank_holidays)


def _script(call: PlannedCall, settings: Settings, phones: Phones) -> Script:
    office = settings.offices[call.office]
    return Script(
        caller=call.caller,
        to=office.numbers[0],
        advisers=lambda phone: phones.answer(phone, call.talk_seconds),
        digits=list(call.digits),
        message_seconds=call.message_seconds,
        talk_seconds=call.talk_seconds,
        hang_up_after=call.hang_up_after,
        hang_up_at=call.hang_up_at,
    )


def _call_timeline(
    player: CallPlayer, call: PlannedCall, settings: Settings, phones: Phones
) -> Process:
    return player.start(_script(call, settings, phones))


def _jobs(runtime: Runtime, until: datetime) -> Generator[float, None, int]:
    """The scheduler's queue jobs, on the hour through the working day (at night there is
    nobody to give work to, and a deadline falls in working hours)."""
    ctx = JobContext(settings=runtime.settings, dialer=runtime.dialer)
    runs = 0
    while runtime.clock() < until:
        if (
            JOB_HOURS[0]
            <= runtime.clock().astimezone(runtime.settings.timezone).hour
            <= JOB_HOURS[1]
        ):
            for name in JOB_NAMES:
                JOBS[name].run(runtime.sessions, ctx, runtime.clock())
                runs += 1
        yield 3600
    return runs


@contextmanager
def _week_sessions(runtime: Runtime) -> Iterator[sessionmaker[Session]]:
    """Sessions for writing the week. On SQLite they do not wait for the disk after each
    commit: a week is a few thousand webhooks of made-up history, which a machine that crashed
    half-way would lose, and the next --demo command would start the demo again."""
    if not runtime.settings.database_url.startswith("sqlite"):
        yield runtime.sessions
        return
    engine = database_engine(runtime.settings, "background")

    @event.listens_for(engine, "connect")
    def _no_waiting_for_the_disk(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _days(
    settings: Settings, first_day: date, echo: Callable[[str], None]
) -> Generator[float, None, None]:
    """Say which day is being played, as each begins."""
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        echo(f"playing {day_name(day)}")
        following = local_instant(day + timedelta(days=1), time(0), settings.timezone)
        yield (following - local_instant(day, time(0), settings.timezone)).total_seconds()


def week_settings(settings: Settings) -> Settings:
    """The demo's settings as the week is played: usual hours, and the address that the
    service's own call-back webhooks are signed for."""
    usual = usual_hours(settings)
    return replace(usual, public_base_url=settings.public_base_url or "http://127.0.0.1:5000")


@contextmanager
def _quiet_jobs() -> Iterator[None]:
    """The jobs' warnings of deadlines are news to a duty officer, not while history is made."""
    logger = logging.getLogger("helpline.jobs")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def play_week(
    runtime: Runtime,
    *,
    seed: int,
    first_day: date | None,
    calls_per_day: int,
    echo: Callable[[str], None],
) -> str:
    """Play a week of calls into the demo's call log; a summary of what was played."""
    settings = week_settings(runtime.settings)
    tz = settings.timezone
    now = runtime.clock()
    first = first_day or now.astimezone(tz).date() - timedelta(days=7)
    start = local_instant(first, time(0), tz)
    end = local_instant(first + timedelta(days=7), time(0), tz)
    if end > now:
        raise WeekError(
            f"the week from {first} has not ended yet: choose a first day at least 7 days ago"
        )
    with unit_of_work(runtime.sessions) as session:
        already = session.scalar(
            select(func.count()).where(Call.started_at >= start, Call.started_at < end)
        )
        if already:
            raise WeekError(
                f"the call log already has {already} call(s) in the week from {first}: a week "
                "is played only where the log is empty (choose another with --from, or start "
                "from a fresh demo database)"
            )
        import_rota(session, settings, week_csv(settings, first, leavers(session)), now)
    plan = plan_week(settings, first, seed, calls_per_day)
    began = timer.monotonic()
    with _week_sessions(runtime) as sessions, _quiet_jobs():
        played = _play(settings, sessions, plan, first, end, seed, echo)
    took = timer.monotonic() - began
    return report(runtime, settings, plan, played, first, seed, took)


@dataclass(frozen=True)
class Played:
    """What the week's processes did."""

    calls: list[Result]
    call_backs: int
    call_back_errors: int


def _play(
    settings: Settings,
    sessions: sessionmaker[Session],
    plan: Sequence[PlannedCall],
    first: date,
    end: datetime,
    seed: int,
    echo: Callable[[str], None],
) -> Played:
    """Play the planned calls, the advisers' call backs and the scheduler's jobs side by side
    on one clock, from the week's first midnight."""
    start = local_instant(first, time(0), settings.timezone)
    clock = SimulatedClock(start)
    sids = random.Random(f"sids {seed}")

    def new_sid(prefix: str) -> str:
        return f"{prefix}{sids.getrandbits(128):032x}"

    dialer = HandingDialer(new_sid)
    week = Runtime(settings=settings, sessions=sessions, clock=clock, dialer=dialer)
    player = CallPlayer(
        FlaskTransport(create_app(week)),
        settings.twilio_auth_token or "",
        settings.public_base_url or "",
        clock=clock,
        sids=new_sid,
    )
    phones = Phones(random.Random(f"phones {seed}"), clock)
    work = random.Random(f"work {seed}")
    processes: list[tuple[datetime, Callable[[], Process]]] = [
        (start, lambda: _days(settings, first, echo)),
        (start, lambda: _jobs(week, end)),
    ]
    for name, _phone, _office in ADVISERS:
        work_of = partial(adviser_at_work, week, player, dialer, phones.engaged, name, work, end)
        processes.append((start, work_of))
    for call in plan:
        processes.append((call.at, partial(_call_timeline, player, call, settings, phones)))
    results = play_together(clock, processes)
    calls = [result for result in results if isinstance(result, Result)]
    call_backs = sum(result for result in results[2 : 2 + len(ADVISERS)] if isinstance(result, int))
    return Played(calls, call_backs, len(dialer.errors))


OUTCOMES = (*CallOutcome, None)


def report(
    runtime: Runtime,
    settings: Settings,
    plan: Sequence[PlannedCall],
    played: Played,
    first: date,
    seed: int,
    took: float,
) -> str:
    """What was played: calls by outcome in each county, the callbacks, and how the week was
    made."""
    sids = [result.call_sid for result in played.calls]
    start = local_instant(first, time(0), settings.timezone)
    end = start + timedelta(days=8)
    with unit_of_work(runtime.sessions) as session:
        rows = session.execute(
            select(Call.office, Call.outcome, func.count())
            .where(Call.sid.in_(sids))
            .group_by(Call.office, Call.outcome)
        ).all()
        callbacks = session.execute(
            select(Callback.status, func.count())
            .where(Callback.created_at >= start, Callback.created_at < end)
            .group_by(Callback.status)
        ).all()
    offices = list(settings.offices)
    counts: dict[tuple[str, str | None], int] = {(o, outcome): n for o, outcome, n in rows}
    last = first + timedelta(days=6)
    holidays = bank_holidays(settings.bank_holidays)
    lines = [
        f"Played {len(sids)} calls from {day_name(first)} to {day_name(last)} {last.year} "
        f"(seed {seed}) "
        "in the offices' usual hours"
        + (", with England's bank holidays:" if settings.bank_holidays != "none" else ":"),
        f"{'':<22}" + "".join(f"{office:>16}" for office in offices),
    ]
    for outcome in OUTCOMES:
        label = outcome or "in progress"
        lines.append(
            f"{label:<22}" + "".join(f"{counts.get((o, outcome), 0):>16}" for o in offices)
        )
    lines.append(f"{'calls':<22}" + "".join(f"{_total(counts, o):>16}" for o in offices))
    hidden = sum(1 for call in plan if call.caller is None)
    out_of_hours = sum(1 for call in plan if not in_office_hours(settings, call))
    closed = [first + timedelta(days=d) for d in range(7) if first + timedelta(days=d) in holidays]
    lines.append(
        f"{hidden} from hidden numbers; {out_of_hours} out of office hours"
        + (f"; bank holiday: {', '.join(day_name(d) for d in closed)}" if closed else "")
        + "."
    )
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(callbacks))
    lines.append(
        f"Callbacks: {sum(n for _, n in callbacks)} made from messages ({statuses or 'none'}); "
        f"advisers called back {played.call_backs} time(s)."
    )
    errors = sum(len(result.errors) for result in played.calls) + played.call_back_errors
    if errors:
        lines.append(f"{errors} request(s) failed: see the log.")
    lines.append(f"({took:.0f} s to play.)")
    return "\n".join(lines)


def day_name(day: date) -> str:
    """Monday 23 November."""
    return f"{day:%A} {day.day} {day:%B}"


def _total(counts: dict[tuple[str, str | None], int], office: str) -> int:
    return sum(n for (o, _), n in counts.items() if o == office)
