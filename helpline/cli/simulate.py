"""`helpline simulate call`: play a call through the webhooks, from names and office keys."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.orm import Session

from helpline.app import create_app, make_runtime
from helpline.cli.base import State, fail, parse_time, pass_state
from helpline.phones import to_e164
from helpline.settings import Settings
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
            result[adviser_phone(session, name)] = behaviour
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
@click.option("--digits", multiple=True, help="Keys the caller presses at each menu, e.g. 1.")
@click.option(
    "--message-seconds",
    default=20,
    show_default=True,
    type=int,
    help="Length of the caller's message; 0 hangs up before the beep.",
)
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
    digits: tuple[str, ...],
    message_seconds: int,
    url: str | None,
    at_text: str | None,
) -> None:
    """Play one call, signed as Twilio would sign it, and print what happens."""
    from helpline.simulator import CallPlayer, FlaskTransport, HttpTransport, Script

    runtime = state.runtime
    settings = runtime.settings
    at = parse_time(at_text, state, "--at")
    if not settings.twilio_auth_token:
        fail("TWILIO_AUTH_TOKEN is not set, so requests cannot be signed (try --demo)")
    with state.transaction() as session:
        advisers = resolve_advisers(
            session, accept=accept, decline=decline, voicemail=voicemail, busy=busy
        )
    number = resolve_to(settings, to)
    script = Script(
        caller=None if caller.lower() == "withheld" else caller,
        to=number,
        advisers=advisers,
        digits=list(digits),
        message_seconds=message_seconds,
    )
    if url:
        if at:
            fail("--at works only when the call is played in this process (without --url)")
        # Sign for the address the service believes it has; send to the address given.
        base = settings.public_base_url or url.rstrip("/")
        transport: Any = HttpTransport(base, url.rstrip("/"))
    else:
        if at:
            runtime = make_runtime(
                settings, sessions=runtime.sessions, clock=lambda: at, dialer=runtime.dialer
            )
        transport = FlaskTransport(create_app(runtime))
        base = settings.public_base_url or "http://127.0.0.1:5000"
        if not settings.demo:
            click.echo("(playing in this process against DATABASE_URL)", err=True)
    player = CallPlayer(
        transport,
        settings.twilio_auth_token or "",
        base,
        on_step=lambda step: click.echo(str(step)),
    )
    result = player.play(script)
    for error in result.errors:
        click.echo(f"ERROR: {error}", err=True)
    with state.transaction() as session:
        from calls.models import Call
        from calls.report import call_json

        call = session.query(Call).filter_by(sid=result.call_sid).one_or_none()
        if call is not None and not url:
            click.echo(f"outcome: {call_json(call)['outcome']}")
    if result.errors:
        sys.exit(1)
