"""The figures as the contract's JSON, as CSV (one measure a row), and as a table for people."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from helpline.statistics.model import OUTCOMES, Figures, OfficeCallbacks, OfficeCalls, Work

FORMULA = (
    "answered live within T seconds / (answered live + abandoned after the short-abandon "
    "threshold + reached the answer machine or asked for a callback after an adviser was rung)"
)
CSV_HEADER = ("from", "to", "section", "office", "weekday", "hour", "adviser", "measure", "value")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def ratio(part: float, whole: float, digits: int = 4) -> float | None:
    """part / whole, or None when there is nothing to measure."""
    return round(part / whole, digits) if whole else None


def _calls(calls: OfficeCalls) -> dict[str, int]:
    shown = {"received": calls.received}
    shown.update({o: calls.outcomes.get(o, 0) for o in OUTCOMES})
    shown.update({o: n for o, n in calls.outcomes.items() if o not in OUTCOMES})
    shown["in_progress"] = calls.in_progress
    return shown


def _callbacks(found: OfficeCallbacks) -> dict[str, Any]:
    oldest = found.oldest_open_created_at
    return {
        "created": found.created,
        **found.statuses,
        "first_attempt_within_promise": found.first_attempt_within_promise,
        "oldest_open_created_at": oldest.isoformat() if oldest else None,
    }


def _work(work: Work) -> dict[str, int]:
    return {
        "calls_answered": work.calls_answered,
        "calls_answered_for_partner": work.calls_answered_for_partner,
        "callbacks_completed": work.callbacks_completed,
        "callbacks_completed_for_partner": work.callbacks_completed_for_partner,
        "talk_seconds": round(work.talk_seconds),
    }


def as_json(figures: Figures, office: str | None = None) -> dict[str, Any]:
    """The contract's JSON; with `office`, only that county's callers, team and advisers."""
    keep = (lambda key: key == office) if office else (lambda key: True)
    offices = {}
    for key, calls in figures.offices.items():
        if not keep(key):
            continue
        offices[key] = {
            "calls": _calls(calls),
            "service_level": ratio(calls.answered_within_t, calls.service_level_calls),
            "service_level_calls": {
                "answered_within_t": calls.answered_within_t,
                "counted": calls.service_level_calls,
            },
            "average_speed_of_answer_s": ratio(calls.wait_of_answered_s, calls.answered, 1),
            "callbacks": _callbacks(figures.callbacks.get(key, OfficeCallbacks())),
        }
    return {
        "from": figures.first.isoformat(),
        "to": figures.last.isoformat(),
        "service_level_formula": {
            "formula": FORMULA,
            "answer_within_s": figures.answer_within_s,
            "short_abandon_s": figures.short_abandon_s,
        },
        "offices": offices,
        "teams": {key: _work(work) for key, work in figures.teams.items() if keep(key)},
        "hour_of_week": [
            {
                "office": h.office,
                "weekday": h.weekday,
                "hour": h.hour,
                "received": h.received,
                "answered": h.answered,
            }
            for h in figures.hour_of_week
            if keep(h.office)
        ],
        "team_hours": [
            {
                "team": t.team,
                "weekday": t.weekday,
                "hour": t.hour,
                "calls_answered": t.calls_answered,
                "talk_seconds": round(t.talk_seconds),
            }
            for t in figures.team_hours
            if keep(t.team)
        ],
        "advisers": [
            {"name": name, "team": team, **_adviser(work)}
            for (name, team), work in sorted(figures.advisers.items())
            if keep(team)
        ],
    }


def _adviser(work: Work) -> dict[str, int]:
    shown = _work(work)
    return {k: shown[k] for k in ("calls_answered", "talk_seconds", "callbacks_completed")}


def as_csv(data: dict[str, Any]) -> str:
    """The JSON as rows of one measure each, under the header of docs/statistics.md."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    span = (data["from"], data["to"])

    def row(section: str, office: str, measure: str, value: Any, **where: Any) -> None:
        cells = (where.get("weekday", ""), where.get("hour", ""), where.get("adviser", ""))
        shown = "" if value is None else value
        writer.writerow((*span, section, office, *cells, measure, shown))

    for office, found in data["offices"].items():
        for measure, value in found["calls"].items():
            row("calls", office, measure, value)
        row("calls", office, "service_level", found["service_level"])
        for measure, value in found["service_level_calls"].items():
            row("calls", office, f"service_level_{measure}", value)
        row("calls", office, "average_speed_of_answer_s", found["average_speed_of_answer_s"])
        for measure, value in found["callbacks"].items():
            row("callbacks", office, measure, value)
    for team, work in data["teams"].items():
        for measure, value in work.items():
            row("teams", team, measure, value)
    for h in data["hour_of_week"]:
        for measure in ("received", "answered"):
            at = {"weekday": h["weekday"], "hour": h["hour"]}
            row("hour_of_week", h["office"], measure, h[measure], **at)
    for t in data["team_hours"]:
        for measure in ("calls_answered", "talk_seconds"):
            at = {"weekday": t["weekday"], "hour": t["hour"]}
            row("team_hours", t["team"], measure, t[measure], **at)
    for a in data["advisers"]:
        for measure in ("calls_answered", "talk_seconds", "callbacks_completed"):
            row("advisers", a["team"], measure, a[measure], adviser=a["name"])
    return out.getvalue()


def as_table(data: dict[str, Any], shown: Callable[[str], str] = str) -> str:
    """A short summary for a terminal: one block per county, then the teams; `shown` writes
    an instant of the JSON (the oldest open callback's) as people read it."""
    lines = [f"Statistics {data['from']} to {data['to']}"]
    for office, found in data["offices"].items():
        calls, backs = found["calls"], found["callbacks"]
        level = found["service_level"]
        asa = found["average_speed_of_answer_s"]
        lines += [
            "",
            f"{office}",
            "  calls    " + "  ".join(f"{k} {v}" for k, v in calls.items()),
            f"  service level {'-' if level is None else f'{level:.1%}'}"
            f"  average speed of answer {'-' if asa is None else f'{asa:.1f} s'}",
            "  callbacks "
            + "  ".join(
                f"{k} {shown(v) if k == 'oldest_open_created_at' else v}"
                for k, v in backs.items()
                if v is not None
            ),
        ]
    lines += ["", "teams"]
    for team, work in data["teams"].items():
        lines.append(f"  {team:<16} " + "  ".join(f"{k} {v}" for k, v in work.items()))
    formula = data["service_level_formula"]
    lines += [
        "",
        f"service level = {formula['formula']}; T = {formula['answer_within_s']} s, "
        f"short abandons under {formula['short_abandon_s']} s",
    ]
    return "\n".join(lines)
