"""The pure routing core: who is rung, in what order, and how a call turns out."""

from datetime import UTC, datetime

from calls.routing import OfficeNow, call_outcome, next_adviser, office_sequence
from rota.availability import Candidate, OnShift, candidates

END = datetime(2026, 11, 30, 17, tzinfo=UTC)


def on(adviser_id: int, name: str, office: str = "herefordshire") -> OnShift:
    return OnShift(adviser_id, name, f"+4477009000{adviser_id:02d}", office, END)


def test_office_sequence_is_rung_office_then_its_own_fallback_without_repeats() -> None:
    assert office_sequence("herefordshire", ["worcestershire", "herefordshire"]) == [
        "herefordshire",
        "worcestershire",
    ]


def test_busy_and_already_tried_advisers_are_not_candidates() -> None:
    team = [on(1, "Ann"), on(2, "Ben"), on(3, "Cat")]
    result = candidates(team, busy={1}, ringing_elsewhere=set(), tried={2}, last_rung={})
    assert [c.adviser.name for c in result] == ["Cat"]


def test_an_adviser_away_is_not_a_candidate_even_when_nobody_else_is_free() -> None:
    away = OnShift(1, "Ann", "+447700900001", "herefordshire", END, away=True)
    team = [away, on(2, "Ben")]
    result = candidates(team, busy={2}, ringing_elsewhere=set(), tried=set(), last_rung={})
    assert result == []


def test_adviser_rung_longest_ago_comes_first_and_never_rung_before_all() -> None:
    team = [on(1, "Ann"), on(2, "Ben"), on(3, "Cat")]
    last = {
        1: datetime(2026, 11, 30, 9, 50, tzinfo=UTC),
        2: datetime(2026, 11, 30, 9, 10, tzinfo=UTC),
    }
    result = candidates(team, busy=set(), ringing_elsewhere=set(), tried=set(), last_rung=last)
    assert [c.adviser.name for c in result] == ["Cat", "Ben", "Ann"]


def test_adviser_ringing_for_another_caller_is_rung_only_when_nobody_else_is_free() -> None:
    here = OfficeNow(True, [Candidate(on(1, "Ann"), True)])
    there = OfficeNow(True, [Candidate(on(2, "Ben", "worcestershire"), False)])
    seq = ["herefordshire", "worcestershire"]
    first = next_adviser(seq, {"herefordshire": here, "worcestershire": there}, 4)
    assert first is not None and first.name == "Ben"
    alone = next_adviser(seq, {"herefordshire": here, "worcestershire": OfficeNow(True)}, 4)
    assert alone is not None and alone.name == "Ann"


def test_closed_office_is_skipped_for_its_partner() -> None:
    seq = ["herefordshire", "worcestershire"]
    offices = {
        "herefordshire": OfficeNow(False, [Candidate(on(1, "Ann"), False)]),
        "worcestershire": OfficeNow(True, [Candidate(on(2, "Ben", "worcestershire"), False)]),
    }
    chosen = next_adviser(seq, offices, 4)
    assert chosen is not None and chosen.office == "worcestershire"


def test_office_that_used_up_its_tries_hands_on_and_then_the_answer_machine() -> None:
    seq = ["herefordshire", "worcestershire"]
    offices = {
        "herefordshire": OfficeNow(True, [Candidate(on(1, "Ann"), False)], tried=2),
        "worcestershire": OfficeNow(True, [], tried=0),
    }
    assert next_adviser(seq, offices, 2) is None
    assert next_adviser(seq, offices, 3) is not None


def test_outcomes_name_who_helped() -> None:
    assert (
        call_outcome(
            office="h", answered_office="h", message_left=False, reached_answer_machine=False
        )
        == "answered"
    )
    assert (
        call_outcome(
            office="h", answered_office="w", message_left=False, reached_answer_machine=False
        )
        == "answered_by_partner"
    )
    assert (
        call_outcome(
            office="h", answered_office=None, message_left=True, reached_answer_machine=True
        )
        == "voicemail"
    )
    assert (
        call_outcome(
            office="h", answered_office=None, message_left=False, reached_answer_machine=True
        )
        == "missed"
    )
    assert (
        call_outcome(
            office="h", answered_office=None, message_left=False, reached_answer_machine=False
        )
        == "abandoned"
    )
    assert (
        call_outcome(
            office="h",
            answered_office=None,
            message_left=False,
            reached_answer_machine=False,
            callback_requested=True,
        )
        == "callback_requested"
    )
