"""An adviser who has set themself away is not rung for helpline calls."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from helpline.simulation.simulator import CallPlayer, FlaskTransport, Script
from rota import service as rota
from tests.constants import ANN, BASE_URL, BEN, HEREFORD, MONDAY, PARENT, TOKEN
from tests.factories import adviser


def rung_for(app: Flask, script: Script) -> list[str]:
    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(script)
    assert result.errors == []
    return [s.text.split()[2] for s in result.steps if s.text.startswith("rings adviser")]


def test_an_away_adviser_is_not_rung_and_a_colleague_takes_the_call(
    app: Flask, session: Session
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    rota.set_away(session, ann, True)
    session.commit()

    assert rung_for(app, Script(caller=PARENT, to=HEREFORD, advisers={BEN: "accept"})) == [BEN]


def test_when_the_only_adviser_is_away_the_caller_reaches_the_answer_machine(
    app: Flask, session: Session
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    rota.set_away(session, ann, True)
    session.commit()

    assert rung_for(app, Script(caller=PARENT, to=HEREFORD, message_seconds=12)) == []

    rota.set_away(session, ann, False)
    session.commit()
    assert rung_for(app, Script(caller=PARENT, to=HEREFORD, advisers={ANN: "accept"})) == [ANN]
