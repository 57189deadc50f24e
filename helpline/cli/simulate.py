"""`helpline simulate call` and `simulate week`: play calls through the webhooks, from names and
office keys, with time passing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from calls.service import latest_moment
from helpline.cli.base import State, fail, parse_time, pass_state
from helpline.phones import to_e164
from helpline.settings import Settings
from helpline.simulation.simulated_call import HANG_UP_STEPS
from rota.service import UnknownAdviser, find_adviser


def adviser_phone(session: Session, who: str) -> str:
    """An adviser's phone from their name, or the number itself."""
    if any(ch.isdigit() for ch in who) and not any(ch.isalpha() for ch in who):
        number = to_e164(who)
        if number:
            return number
    try:
        return find_adviser(session, who).phone
    except UnknownAdviser as exc:
        raise click.ClickException(str(exc)) from None


def resolve_advisers(session: Session, **groups: tuple[str, ...]) -> dict[str, str]:
    """Map each named adviser's phone to what their phone does in the simulated call."""
    result: dict[str, str] = {}
    for behaviour, names in groups.items():
        for name in names:
            result[adviser_phone(session, name)] = behaviour.replace("_", "-")
    return result


def resolve_to(settings: Settings, to: str | None) -> str:
    """The number dialled: an office key means that office's first number."""
    if to is None:
        return settings.first_office.numbers[0] if settings.first_office.numbers else ""
    office = settings.offices.get(to.lower())
    if office is not None:
        if not office.numbers:
            raise click.ClickException(f"office '{to}' has no numbers configured")
        return office.numbers[0]
    number = to_e164(to)
    if number is None:
        known = ", ".join(settings.offices)
        raise click.ClickException(f"no office '{to}' (known offices: {known}) and not a number")
    return number


def seconds_option(
    name: str, default: int, text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A whole number of seconds, 0 or more."""
    return click.option(
        name, default=default, show_default=True, type=click.IntRange(min=0), help=text
    )


@click.group()
def simulate() -> None:
    """Play calls through the webhooks without Twilio."""


@simulate.command("call")
@click.option(
    "--from",
    "caller",
    default="+447700900123",
    show_default=True,
    help="The caller's number, or 'withheld'.",
)
@click.option(
    "--to",
    "to",
    default=None,
    help="The number dialled, or an office key; default: the first office.",
)
@click.option("--accept", multiple=True, help="Adviser (name or phone) who presses 1.")
@click.option("--decline", multiple=True, help="Adviser who answers and presses 2.")
@click.option("--voicemail", multiple=True, help="Adviser whose phone goes to voicemail.")
@click.option("--busy", multiple=True, help="Adviser whose line is busy.")
@click.option(
    "--no-answer", "no_answer", multiple=True, help="Adviser whose phone rings out (the default)."
)
@click.option("--digits", multiple=True, help="Keys the caller presses at each menu, e.g. 1.")
@seconds_option("--ring-seconds", 8, "How long each adviser's phone rings before it picks up.")
@seconds_option("--screen-seconds", 4, "How long an adviser who picks up takes to press a key.")
@seconds_option("--talk-seconds", 120, "How long the caller and the adviser talk.")
@seconds_option(
    "--message-seconds", 20, "Length of the caller's message; 0 hangs up before the beep."
)
@click.option(
    "--hang-up-after",
    type=click.IntRange(min=1),
    default=None,
    help="The caller hangs up this many seconds after the call began, wherever it has got to.",
)
@click.option(
    "--hang-up-at",
    type=click.Choice(HANG_UP_STEPS),
    default=None,
    help="The caller hangs up halfway through this step: the greeting, the first adviser's "
    "ringing, or the answer machine's words before the beep.",
)
@click.option(
    "--in-progress",
    "in_progress",
    is_flag=True,
    help="Leave the call in progress once the caller is talking or leaving a message.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the call as JSON instead.")
@click.option(
    "--url", default=None, help="Base URL of a running service; default: play in this process."
)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="Play the call as if at this ISO time (local unless an offset is given).",
)
@pass_state
def simulate_call(
    state: State,
    caller: str,
    to: str | None,
    accept: tuple[str, ...],
    decline: tuple[str, ...],
    voicemail: tuple[str, ...],
    busy: tuple[str, ...],
    no_answer: tuple[str, ...],
    digits: tuple[str, ...],
    ring_seconds: int,
    screen_seconds: int,
    talk_seconds: int,
    message_seconds: int,
    hang_up_after: int | None,
    hang_up_at: str | None,
    in_progress: bool,
    as_json: bool,
    url: str | None,
    at_text: str | None,
) -> None:
    """Play one call, signed as Twilio would sign it, and print what happens."""
    from helpline.simulation.simulator import (
        CallPlayer,
        FlaskTransport,
        HttpTransport,
        Script,
        SimulatedClock,
    )

    chosen = [
        name
        for name, given in (
            ("--hang-up-after", hang_up_after is not None),
            ("--hang-up-at", hang_up_at is not None),
            ("--in-progress", in_progress),
        )
        if given
    ]
    if len(chosen) > 1:
        fail(f"{' and '.join(chosen)} cannot be used together: choose one")
    runtime = state.runtime
    settings = runtime.settings
    at = parse_time(at_text, state, "--at")
    if not settings.twilio_auth_token:
        fail("TWILIO_AUTH_TOKEN is not set, so requests cannot be signed (try --demo)")
    if ring_seconds >= settings.routing.ring_seconds and (accept or decline or voicemail):
        click.echo(
            f"note: with --ring-seconds {ring_seconds}, no phone picks up before the service "
            f"stops ringing it ([routing] ring_seconds = {settings.routing.ring_seconds}), so "
            "the advisers named will not answer",
            err=True,
        )
    with state.transaction() as session:
        advisers = resolve_advisers(
            session,
            accept=accept,
            decline=decline,
            voicemail=voicemail,
            busy=busy,
            no_answer=no_answer,
        )
    script = Script(
        caller=None if caller.lower() == "withheld" else caller,
        to=resolve_to(settings, to),
        advisers=advisers,
        digits=list(digits),
        message_seconds=message_seconds,
        talk_seconds=talk_seconds,
        ring_seconds=ring_seconds,
        screen_seconds=screen_seconds,
        hang_up_after=hang_up_after,
        hang_up_at=hang_up_at,
        leave_open=in_progress,
    )
    clock = None
    if url:
        if at:
            fail("--at works only when the call is played in this process (without --url)")
        # Sign for the address the service believes it has; send to the address given.
        base = settings.public_base_url or url.rstrip("/")
        transport: Any = HttpTransport(base, url.rstrip("/"))
        click.echo(
            "(times are real: a running service keeps its own clock, which the simulator "
            "cannot move, so ringing, talk and messages are played without waiting and the "
            "call log shows the few seconds the requests took)",
            err=True,
        )
    else:
        # The runtime's clock is the only source of now: the simulator moves it on.
        clock = SimulatedClock(at or start_after_what_was_played(state, runtime.clock()))
        from helpline.app import create_app, make_runtime

        runtime = make_runtime(
            settings, sessions=runtime.sessions, clock=clock, dialer=runtime.dialer
        )
        transport = FlaskTransport(create_app(runtime))
        base = settings.public_base_url or "http://127.0.0.1:5000"
        if not settings.demo:
            click.echo("(playing in this process against DATABASE_URL)", err=True)
    player = CallPlayer(
        transport,
        settings.twilio_auth_token or "",
        base,
        on_step=None if as_json else lambda step: click.echo(step.timed()),
        clock=clock,
    )
    result = player.play(script)
    with state.transaction() as session:
        from helpline.simulation.call_figures import figures

        found = figures(session, result.call_sid)
    if as_json:
        click.echo(json.dumps(call_report(result, found, simulated=clock is not None), indent=2))
    else:
        for error in result.errors:
            click.echo(f"ERROR: {error}", err=True)
        if hang_up_at and not result.hung_up:
            click.echo(f"(the call never reached the {hang_up_at} step, so nobody hung up there)")
        click.echo(summary(found))
    if result.errors:
        sys.exit(1)


def start_after_what_was_played(state: State, now: datetime) -> datetime:
    """Now, or later if calls played before ran on past it in simulated time: one played call
    follows another, as on a real line, so nobody is in two conversations at once."""
    with state.transaction() as session:
        latest = latest_moment(session)
    return max(now, latest) if latest is not None else now


def call_report(result: Any, found: dict[str, Any] | None, *, simulated: bool) -> dict[str, Any]:
    """The call for scripts: the call log's view of it, its figures and what was heard."""
    report: dict[str, Any] = {"sid": result.call_sid}
    report.update(found or {"outcome": None, "in_call_log": False})
    report["times"] = "simulated" if simulated else "real"
    report["caller_hung_up"] = result.hung_up
    report["left_in_progress"] = result.left_open
    report["heard"] = result.heard()
    report["steps"] = [
        {"at_s": round(step.at, 1), "who": step.who, "text": step.text} for step in result.steps
    ]
    report["errors"] = result.errors
    return report


def summary(found: dict[str, Any] | None) -> str:
    """The closing lines of a played call: its wait and talk, then its outcome."""
    if found is None:
        return "outcome: not known (the call is not in this command's database)"
    figures = []
    if found["wait_s"] is not None:
        figures.append(f"wait {found['wait_s']} s")
    if found["talk_s"] is not None:
        figures.append(f"talk {found['talk_s']} s")
    lines = [", ".join(figures)] if figures else []
    if found["outcome"] is None:
        lines.append("outcome: none yet, the call is in progress")
    else:
        lines.append(f"outcome: {found['outcome']}")
    return "\n".join(lines)


@simulate.command("week")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same week.")
@click.option(
    "--from",
    "first_day",
    default=None,
    help="The week's first day (YYYY-MM-DD); default: 7 days before today.",
)
@click.option(
    "--calls-per-day",
    default=50,
    show_default=True,
    type=click.IntRange(min=1, max=500),
    help="Calls to both counties on an ordinary open day (fewer on weekends and bank holidays).",
)
@pass_state
def simulate_week(state: State, seed: int, first_day: str | None, calls_per_day: int) -> None:
    """Fill the demo with a week of calls played through the webhooks, as Twilio would."""
    from helpline.simulation.simulate_week import WeekError, play_week

    if not state.demo:
        fail(
            "simulate week fills a call log with made-up calls, so it runs only on the demo's "
            "database: use helpline --demo simulate week"
        )
    start: date | None = None
    if first_day is not None:
        try:
            start = date.fromisoformat(first_day)
        except ValueError:
            fail(f"--from: '{first_day}' is not a date like 2026-11-23")
    try:
        report = play_week(
            state.runtime,
            seed=seed,
            first_day=start,
            calls_per_day=calls_per_day,
            echo=lambda text: click.echo(text, err=True),
        )
    except WeekError as exc:
        fail(str(exc))
    click.echo(report)
