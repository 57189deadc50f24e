"""Calls played by the simulator with time passing: hang-ups, calls left in progress, and the
call log's times, through the signed webhooks, with the runtime's clock moved by the player."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.models import Message
from calls.models import Call
from helpline.app import create_app, make_runtime
from helpline.settings import Settings
from helpline.simulation.call_figures import figures
from helpline.simulation.simulated_call import speech_seconds
from helpline.simulation.simulator import (
    CallPlayer,
    FlaskTransport,
    Process,
    Result,
    Script,
    SimulatedClock,
    play_together,
)
from rota.importer import import_rota

MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # both offices open
PARENT = "+447700900123"
ANN, BEN = "+447700900001", "+447700900002"


class Recording:
    """A transport that keeps every request made: (path, parameters)."""

    def __init__(self, inner: FlaskTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, dict[str, str]]] = []

    def post(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, str]:
        self.requests.append((url.split("://", 1)[1].split("/", 1)[1].split("?")[0], dict(params)))
        return self.inner.post(url, params, headers)

    def paths(self) -> list[str]:
        return ["/" + path for path, _ in self.requests]


class Line:
    """A clock, the app reading it, and a player moving it."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.clock = SimulatedClock(MONDAY_MORNING)
        runtime = make_runtime(settings, sessions=sessions, clock=self.clock)
        self.transport = Recording(FlaskTransport(create_app(runtime)))
        self.player = CallPlayer(
            self.transport,
            settings.twilio_auth_token or "",
            settings.public_base_url or "",
            clock=self.clock,
        )

    def play(self, script: Script) -> Result:
        result = self.player.play(script)
        assert result.errors == []
        return result


@pytest.fixture
def line(settings: Settings, sessions: sessionmaker[Session]) -> Line:
    return Line(settings, sessions)


@pytest.fixture
def team(session: Session, settings: Settings) -> None:
    """Ann and Ben on shift in Herefordshire on Monday."""
    rows = [
        "name,phone,office,date,start,end,duty_officer",
        f"Ann Ash,{ANN},herefordshire,{date(2026, 11, 30)},09:00,17:00,yes",
        f"Ben Birch,{BEN},herefordshire,{date(2026, 11, 30)},09:00,17:00,no",
    ]
    import_rota(session, settings, "\n".join(rows) + "\n", MONDAY_MORNING)
    session.commit()


def stored(session: Session, result: Result) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.sid == result.call_sid)).one()


def at(result: Result, text: str) -> float:
    """When, in seconds into the call, the first step containing `text` happened."""
    return next(step.at for step in result.steps if text in step.text)


def figure(session: Session, result: Result, name: str) -> object:
    """One of the call's figures as `simulate call --json` reports them."""
    found = figures(session, result.call_sid)
    assert found is not None
    return found[name]


def since_start(call: Call, when: datetime | None) -> float:
    assert when is not None
    return (when - call.started_at).total_seconds()


@pytest.mark.usefixtures("team")
def test_a_caller_who_gives_up_after_30_s_of_ringing_is_abandoned_at_30_s(
    line: Line, session: Session
) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", hang_up_after=30))

    call = stored(session, result)
    assert call.outcome == "abandoned" and call.status == "completed"
    assert since_start(call, call.ended_at) == 30
    assert figure(session, result, "wait_s") == 30
    # Ann rang out after 20 s; Ben was ringing when the caller hung up: Twilio cancels his
    # leg, asks the dial action (the caller has gone), sends the call's end, and nothing more.
    hung_up = result.steps.index(next(s for s in result.steps if s.text == "hangs up"))
    assert "rings adviser +447700900002" in result.steps[hung_up - 1].text
    tail = line.transport.requests[-3:]
    assert [path for path, _ in tail] == ["voice/leg-status", "voice/dial-result", "voice/status"]
    assert tail[0][1]["CallStatus"] == "canceled"
    assert (tail[1][1]["CallStatus"], tail[1][1]["DialCallStatus"]) == ("completed", "canceled")
    assert (tail[2][1]["CallStatus"], tail[2][1]["CallDuration"]) == ("completed", "30")
    assert [leg.state for leg in call.legs] == ["no-answer", "no-answer"]
    assert all(since_start(call, leg.ended_at) <= 30 for leg in call.legs)


@pytest.mark.usefixtures("team")
def test_a_caller_who_hangs_up_during_the_greeting_is_abandoned_and_no_phone_rings(
    line: Line, session: Session
) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", hang_up_at="greeting"))

    call = stored(session, result)
    assert call.outcome == "abandoned"
    [greeting] = result.heard()
    assert since_start(call, call.ended_at) == speech_seconds(greeting) / 2
    # Twilio never reached the <Dial>: only the call's first request and its end.
    assert line.transport.paths() == ["/voice/incoming", "/voice/status"]
    assert not any("rings adviser" in step.text for step in result.steps)


@pytest.mark.usefixtures("team")
def test_a_caller_who_hangs_up_while_the_first_phone_rings_is_abandoned(
    line: Line, session: Session
) -> None:
    result = line.play(
        Script(caller=PARENT, to="+441632960001", advisers={ANN: "accept"}, hang_up_at="ringing")
    )

    call = stored(session, result)
    assert (call.outcome, call.answered_by) == ("abandoned", None)
    rang = at(result, "rings adviser")
    assert since_start(call, call.ended_at) == rang + 4  # halfway through 8 s of ringing
    assert "voice/screen" not in [path for path, _ in line.transport.requests]


def test_a_caller_who_hangs_up_before_the_beep_is_a_missed_call(
    line: Line, session: Session
) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", hang_up_at="before-beep"))

    call = stored(session, result)
    assert call.outcome == "missed"
    assert "hears the beep" not in result.transcript()
    assert since_start(call, call.reached_answer_machine_at) == 0  # nobody is on shift
    paths = line.transport.paths()
    assert paths == ["/voice/incoming", "/voice/status"]  # no recording, no recording callback
    assert session.scalars(select(Message)).all() == []


@pytest.mark.usefixtures("team")
def test_a_three_minute_conversation_is_180_s_of_talk_and_every_time_is_twilios(
    line: Line, session: Session
) -> None:
    result = line.play(
        Script(
            caller=PARENT,
            to="+441632960001",
            advisers={ANN: "accept"},
            ring_seconds=6,
            screen_seconds=3,
            talk_seconds=180,
        )
    )

    call = stored(session, result)
    found = figures(session, result.call_sid)
    assert found is not None
    assert (found["outcome"], found["answered_by"], found["talk_s"]) == ("answered", "Ann Ash", 180)
    [leg] = call.legs
    rang = at(result, "rings adviser")
    assert since_start(call, leg.picked_up_at) == rang + 6
    assert since_start(call, leg.accepted_at) == since_start(call, call.answered_at) == rang + 9
    assert found["wait_s"] == rang + 9
    assert since_start(call, leg.ended_at) == rang + 9 + 180
    assert since_start(call, call.ended_at) == at(result, "call ends") == result.seconds
    assert call.ended_at is not None and call.ended_at > leg.ended_at  # the goodbye is said


@pytest.mark.usefixtures("team")
def test_the_time_an_adviser_takes_to_pick_up_moves_the_answer_on(
    line: Line, session: Session
) -> None:
    quick = line.play(
        Script(caller=PARENT, to="+441632960001", advisers={ANN: "accept"}, ring_seconds=2)
    )
    slow = line.play(
        Script(caller="+447700900124", to="+441632960001", advisers={ANN: "accept", BEN: "accept"})
    )
    slower = line.play(
        Script(
            caller="+447700900125",
            to="+441632960001",
            advisers={ANN: "accept", BEN: "accept"},
            ring_seconds=12,
        )
    )

    waits = [figure(session, r, "wait_s") for r in (quick, slow, slower)]
    assert waits[1] - waits[0] == 6 and waits[2] - waits[0] == 10


@pytest.mark.usefixtures("team")
def test_a_phone_nobody_answers_rings_for_the_services_ring_time(
    line: Line, session: Session
) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", advisers={BEN: "accept"}))

    first, second = (s.at for s in result.steps if "rings adviser" in s.text)
    assert second - first == 20  # routing.ring_seconds
    assert stored(session, result).answered_by is not None


@pytest.mark.usefixtures("team")
def test_a_caller_nobody_answers_reaches_the_answer_machine_when_the_last_phone_rings_out(
    line: Line, session: Session
) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", message_seconds=30))

    call = stored(session, result)
    rang_out = [s.at for s in result.steps if s.text.endswith(": no-answer")]
    assert len(rang_out) == 2  # Ann, then Ben; nobody works in Worcestershire today
    assert since_start(call, call.reached_answer_machine_at) == rang_out[-1]
    message = session.scalars(select(Message)).one()
    assert since_start(call, message.received_at) == at(result, "hears the beep") + 30


def test_a_message_is_received_when_the_caller_finishes_it(line: Line, session: Session) -> None:
    result = line.play(Script(caller=PARENT, to="+441632960001", message_seconds=45))

    call = stored(session, result)
    message = session.scalars(select(Message)).one()
    assert message.duration_s == 45
    beep = at(result, "hears the beep")
    assert since_start(call, message.received_at) == beep + 45
    assert call.outcome == "voicemail"
    assert line.transport.paths()[-3:] == [
        "/voice/recorded",
        "/voice/recording-status",
        "/voice/status",
    ]


@pytest.mark.usefixtures("team")
def test_a_call_left_in_progress_has_no_outcome_and_keeps_its_adviser_busy(
    line: Line, session: Session
) -> None:
    result = line.play(
        Script(caller=PARENT, to="+441632960001", advisers={ANN: "accept"}, leave_open=True)
    )

    call = stored(session, result)
    assert (call.outcome, call.ended_at) == (None, None)
    assert call.answered_by is not None and call.answered_by.name == "Ann Ash"
    assert result.left_open and "/voice/status" not in line.transport.paths()
    [leg] = call.legs
    assert (leg.state, leg.ended_at) == ("accepted", None)
    line.clock.advance(60)
    later = line.play(
        Script(caller="+447700900124", to="+441632960001", advisers={ANN: "accept", BEN: "accept"})
    )
    assert [s.text.split()[2] for s in later.steps if "rings adviser" in s.text] == [BEN]


@pytest.mark.usefixtures("team")
def test_a_caller_leaving_a_message_can_be_left_in_progress(line: Line, session: Session) -> None:
    result = line.play(
        Script(caller=PARENT, to="+441632960001", advisers={}, message_seconds=30, leave_open=True)
    )

    call = stored(session, result)
    assert call.outcome is None and call.reached_answer_machine_at is not None
    assert session.scalars(select(Message)).all() == []
    assert line.transport.paths()[-1] == "/voice/dial-result"


@pytest.mark.usefixtures("team")
def test_calls_played_side_by_side_find_an_adviser_who_is_talking_busy(
    line: Line, session: Session
) -> None:
    first = Script(caller=PARENT, to="+441632960001", advisers={ANN: "accept"}, talk_seconds=600)
    second = Script(
        caller="+447700900124", to="+441632960001", advisers={ANN: "accept", BEN: "accept"}
    )
    starts: list[tuple[datetime, Callable[[], Process]]] = [
        (MONDAY_MORNING, lambda: line.player.start(first)),
        (MONDAY_MORNING + timedelta(minutes=2), lambda: line.player.start(second)),
    ]

    results = play_together(line.clock, starts)

    one, two = (stored(session, r) for r in results if isinstance(r, Result))
    assert one.answered_by is not None and one.answered_by.name == "Ann Ash"
    assert two.answered_by is not None and two.answered_by.name == "Ben Birch"
    assert two.started_at - one.started_at == timedelta(minutes=2)
    assert one.ended_at is not None and two.ended_at is not None and two.ended_at < one.ended_at
