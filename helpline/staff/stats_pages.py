"""The statistics page: the figures of a range of local dates, their charts, the CSV download
and the staffing planner, for duty officers, managers and admins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from accounts import audit
from accounts.models import Role
from helpline.staff.web import current_account, db, now, requires, runtime
from helpline.statistics.charts import OUTCOME_NAMES, outcome_bars, week_grid, week_heat
from helpline.statistics.erlang import plan
from helpline.statistics.page import csv_of, gather
from helpline.statistics.ranges import MAX_DAYS, default_range, too_long
from helpline.statistics.report import DAYS, FORMULA

bp = Blueprint("staff_stats", __name__)

VIEWERS = (Role.DUTY_OFFICER, Role.MANAGER, Role.ADMIN)
DEFAULT_TARGET = 0.8
# The plain planner's limits: far past two county teams, and quick to work out.
MOST_CALLS = 5000.0
MOST_SECONDS = 7200.0
NOTHING = "\u2013"  # an en dash: nothing to measure


@dataclass
class StatsForm:
    """The page's GET form as sent, what it means, and what is wrong with it."""

    sent: dict[str, str]
    first: date
    last: date
    office: str | None = None
    target: float = DEFAULT_TARGET
    errors: list[dict[str, str]] = field(default_factory=list)

    def wrong(self, text: str, href: str) -> None:
        """Note a problem with one field."""
        self.errors.append({"text": text, "href": href})


def _date(form: StatsForm, name: str, label: str, default: date) -> date:
    raw = form.sent.get(name, "").strip()
    if not raw:
        form.sent[name] = default.isoformat()
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.wrong(f"{label} must be a real date, like {default.isoformat()}", f"#{name}")
        return default


def _number(
    form: StatsForm,
    name: str,
    label: str,
    default: float | None,
    fraction: bool = False,
    most: float = float("inf"),
) -> float | None:
    raw = form.sent.get(name, "").strip()
    if not raw:
        if default is not None:
            form.sent[name] = f"{default:g}"
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if fraction and not 0 < value < 1:
        form.wrong(f"{label} must be a fraction between 0 and 1, like 0.8", f"#{name}")
        return None
    if value < 0 or value != value or value == float("inf"):
        form.wrong(f"{label} must be a number, 0 or more", f"#{name}")
        return None
    if value > most:
        form.wrong(f"{label} must be at most {most:g}", f"#{name}")
        return None
    return value


def read_form(args: dict[str, str], today: date, offices: list[str]) -> StatsForm:
    """The range (the last 28 local days by default), the county and the planner's target."""
    form = StatsForm(dict(args), *default_range(today))
    form.first = _date(form, "from", "From", form.first)
    form.last = _date(form, "to", "To", form.last)
    if not form.errors and form.last < form.first:
        form.wrong("To must be the same as or after From", "#to")
    elif not form.errors and (problem := too_long(form.first, form.last)):
        form.wrong(problem, "#to")
    office = form.sent.get("office", "")
    if office and office not in offices:
        form.wrong("Choose both counties or one of them", "#office")
    form.office = office or None
    target = _number(form, "target", "Target service level", DEFAULT_TARGET, fraction=True)
    form.target = target if target is not None else DEFAULT_TARGET
    return form


def plain_plan(form: StatsForm, answer_within_s: int) -> dict[str, Any] | None:
    """The plain Erlang C planner's answer when its form was sent, as `helpline stats plan`."""
    if "calls_per_hour" not in form.sent:
        return None
    calls = _number(form, "calls_per_hour", "Calls per hour", None, most=MOST_CALLS)
    handle = _number(form, "handle_seconds", "Handle seconds", None, most=MOST_SECONDS)
    within = _number(form, "answer_within", "Answer within", answer_within_s, most=MOST_SECONDS)
    target = _number(form, "plan_target", "Target", DEFAULT_TARGET, fraction=True)
    for value, name, label in (
        (calls, "calls_per_hour", "Enter calls per hour"),
        (handle, "handle_seconds", "Enter handle seconds"),
    ):
        if value is None and not form.sent.get(name, "").strip():
            form.wrong(label, f"#{name}")
    if calls is None or handle is None or within is None or target is None:
        return None
    made = plan(calls, handle, within, target)
    return {"plan": made, "target": target, "within": within}


MEASURES = {"received": "Received", **OUTCOME_NAMES}
DAYS_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    """A fraction as a percentage to one place, or a dash when there was nothing to measure."""
    return NOTHING if value is None else f"{value:.1%}"


@bp.app_template_filter("seconds")
def seconds(value: float | None) -> str:
    """A number of seconds as hours, minutes and seconds, or a dash."""
    if value is None:
        return NOTHING
    if value < 60:
        return f"{value:g} s"
    whole = round(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {secs} s"


@bp.app_template_filter("long_date")
def long_date(value: str) -> str:
    """An ISO date as people write it: 30 November 2026."""
    return date.fromisoformat(value).strftime("%-d %B %Y")


@bp.app_template_filter("when")
def when(value: str | None) -> str:
    """An ISO instant in the offices' time zone, or a dash."""
    if value is None:
        return NOTHING
    zone = runtime().settings.timezone
    return datetime.fromisoformat(value).astimezone(zone).strftime("%-d %B %Y %H:%M")


def _names() -> dict[str, str]:
    return {key: office.name for key, office in runtime().settings.offices.items()}


def _page(form: StatsForm) -> ResponseReturnValue:
    settings = runtime().settings
    planned = plain_plan(form, settings.statistics.answer_within_s)
    names = _names()
    shown = None
    if not form.errors:
        shown = gather(db(), settings, form.first, form.last, form.office, form.target)
    charts = None
    if shown is not None:
        heat = {k: week_grid(shown.data, k) for k in shown.data["offices"]}
        charts = {
            "outcomes": outcome_bars(shown.data, names),
            "heat": {k: (grid, week_heat(grid, names[k])) for k, grid in heat.items()},
        }
    page = render_template(
        "staff/stats.html",
        form=form,
        shown=shown,
        charts=charts,
        names=names,
        planned=planned,
        formula=FORMULA,
        days=DAYS,
        days_long=DAYS_LONG,
        measure_names=MEASURES,
        answer_within=str(settings.statistics.answer_within_s),
        max_days=MAX_DAYS,
        errors=form.errors,
        field_errors={e["href"].lstrip("#"): e["text"] for e in form.errors},
    )
    return page, 400 if form.errors else 200


def _form() -> StatsForm:
    settings = runtime().settings
    today = now().astimezone(settings.timezone).date()
    return read_form(request.args.to_dict(), today, list(settings.offices))


@bp.get("/stats")
@requires(*VIEWERS)
def stats() -> ResponseReturnValue:
    """The figures of a range of local dates, with charts and the staffing planner."""
    return _page(_form())


@bp.get("/stats.csv")
@requires(*VIEWERS)
def stats_csv() -> ResponseReturnValue:
    """The same CSV as `helpline stats --csv`, as a download; the export is audited."""
    form = _form()
    if form.errors:
        return _page(form)
    text = csv_of(db(), runtime().settings, form.first, form.last, form.office)
    detail = {"from": form.first.isoformat(), "to": form.last.isoformat()}
    detail["office"] = form.office or "both"
    audit.record(db(), current_account(), "stats-exported", "statistics", None, detail, at=now())
    name = f"helpline-stats-{form.first}-to-{form.last}"
    name += f"-{form.office}.csv" if form.office else ".csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
