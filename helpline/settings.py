"""One settings object: defaults from config/*.toml, a deployment's TOML over them, secrets from
the environment. Read once at start-up; no other module reads os.environ."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _config_dir() -> Path:
    """The copy of config/ that an installed package carries (pyproject.toml maps config/ to
    helpline/config when the package is built), or else config/ beside the code in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "config"
    return packaged if (packaged / "defaults.toml").is_file() else here.parent / "config"


CONFIG_DIR = _config_dir()
DEFAULTS_FILE = CONFIG_DIR / "defaults.toml"
DEMO_FILE = CONFIG_DIR / "demo.toml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEMO_AUTH_TOKEN = "demo-auth-token-not-secret"  # noqa: S105 - the local demo's published token
DEMO_SECRET_KEY = "demo-secret-key-not-secret"  # noqa: S105 - the local demo's published key
# The demo's published key for callers' pseudonyms; a real service sets PSEUDONYM_KEY.
DEMO_PSEUDONYM_KEY = "demo-pseudonym-key-not-secret"
SECRETS = (
    "twilio_auth_token",
    "twilio_webhook_shared_key",
    "secret_key",
    "oidc_client_secret",
    "pseudonym_key",
)


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


TimeRange = tuple[time, time]


@dataclass(frozen=True)
class Office:
    """One county office: its public numbers, its partners, and its weekly hours."""

    key: str
    name: str
    numbers: tuple[str, ...]
    fallback: tuple[str, ...]
    hours: Mapping[int, tuple[TimeRange, ...]]  # weekday (Monday = 0) -> local time ranges


@dataclass(frozen=True)
class Signpost:
    """A service read out on the answer machine."""

    name: str
    number: str
    checked: date | None


@dataclass(frozen=True)
class Routing:
    ring_seconds: int = 20
    screen_seconds: int = 8
    max_advisers_per_office: int = 4
    busy_after_accept_hours: int = 4
    max_wait_seconds: int = 150


@dataclass(frozen=True)
class AnswerMachine:
    max_message_seconds: int = 300
    privacy_notice: str = ""
    signposting: tuple[Signpost, ...] = ()


@dataclass(frozen=True)
class CallbackPolicy:
    promise_working_days: int = 2
    max_attempts: int = 3
    retry_spacing_working_hours: int = 2
    missed_call_makes_callback: bool = False
    warn_before_hours: int = 4
    office_hours_callback_offer: bool = False
    max_open_per_adviser: int = 10
    min_shift_left_minutes: int = 30
    number_entry_tries: int = 3
    reconcile_days: int = 2


@dataclass(frozen=True)
class Waits:
    """How long one kind of process lets the database keep it waiting; 0 means no limit."""

    statement_timeout_ms: int = 3000
    lock_timeout_ms: int = 2000
    idle_in_transaction_timeout_ms: int = 10000
    sqlite_busy_timeout_ms: int = 2000
    # PostgreSQL, on the client's own socket: a network that goes silent ends the connection.
    tcp_user_timeout_ms: int = 5000
    keepalives_idle_seconds: int = 5
    keepalives_interval_seconds: int = 2
    keepalives_count: int = 3


@dataclass(frozen=True)
class DatabasePolicy:
    """Limits on waiting for the database: short for the web, where a caller is waiting,
    longer for the scheduler and commands (`background`)."""

    connect_timeout_seconds: int = 2
    pool_timeout_seconds: int = 2
    webhook_deadline_ms: int = 4000
    # Each process's connections: this many kept open, and up to max_overflow more at busy
    # moments, closed again when they are returned.
    pool_size: int = 5
    max_overflow: int = 10
    web: Waits = Waits()
    background: Waits = Waits(
        statement_timeout_ms=120_000,
        lock_timeout_ms=30_000,
        idle_in_transaction_timeout_ms=300_000,
        sqlite_busy_timeout_ms=30_000,
        tcp_user_timeout_ms=60_000,
        keepalives_idle_seconds=30,
        keepalives_interval_seconds=10,
        keepalives_count=5,
    )


@dataclass(frozen=True)
class Web:
    """The staff pages behind the platform's router."""

    # Proxies in front of the app whose X-Forwarded-For is believed (0: none; the address
    # the connection came from is used). Set to 1 behind one router, such as Heroku's.
    trusted_proxies: int = 0


@dataclass(frozen=True)
class Oidc:
    """Signing in to the staff pages through the council's identity provider (OpenID
    Connect), beside passwords; its client secret comes from OIDC_CLIENT_SECRET."""

    enabled: bool = False
    metadata_url: str = ""  # the provider's .../.well-known/openid-configuration
    client_id: str = ""
    button_text: str = "Sign in with your council account"


@dataclass(frozen=True)
class Health:
    scheduler_within_minutes: int = 10


@dataclass(frozen=True)
class StatisticsPolicy:
    """How the statistics measure service level: answered within `answer_within_s` (T), with
    callers who hang up sooner than `short_abandon_s` left out."""

    answer_within_s: int = 20
    short_abandon_s: int = 5


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept, recordings (at Twilio) and callers' numbers, and the
    scheduler's records of its runs."""

    recording_days: int = 180  # after the message's callback closed
    unfiled_recording_days: int = 7  # recordings never filed as a message, after they were made
    unfiled_search_days: int = 30  # how far back past that Twilio's list is searched for them
    number_days: int = 365  # callers' numbers, after their call ended or callback closed
    job_run_days: int = 90  # the scheduler's records of its runs (each job's latest is kept)


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with."""

    service_name: str
    voice: str
    timezone: ZoneInfo
    bank_holidays: str
    offices: Mapping[str, Office]
    routing: Routing
    answer_machine: AnswerMachine
    callbacks: CallbackPolicy
    database_url: str
    retention: Retention = Retention()
    database: DatabasePolicy = DatabasePolicy()
    health: Health = Health()
    web: Web = Web()
    oidc: Oidc = Oidc()
    oidc_client_secret: str | None = None
    statistics: StatisticsPolicy = StatisticsPolicy()
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_webhook_shared_key: str | None = None
    public_base_url: str | None = None
    secret_key: str = ""
    pseudonym_key: str | None = None  # PSEUDONYM_KEY: the key of callers' pseudonyms
    demo: bool = False
    production: bool = False
    log_level: str = "INFO"

    def __repr__(self) -> str:
        # Printed settings end up in logs and test reports: say whether each secret is set,
        # never what it is, and show the database's place without its password.
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRETS:
                text = "'<hidden>'" if value else repr(value)
            elif item.name == "database_url":
                text = repr(without_password(value))
            else:
                text = repr(value)
            shown.append(f"{item.name}={text}")
        return f"Settings({', '.join(shown)})"

    @property
    def first_office(self) -> Office:
        """The office a call to an unknown number is handled as."""
        return next(iter(self.offices.values()))

    def office_for_number(self, number: str) -> Office | None:
        """The office whose public numbers include `number`, if any."""
        for office in self.offices.values():
            if number in office.numbers:
                return office
        return None

    @property
    def twilio_configured(self) -> bool:
        """Whether outbound calls can be placed through Twilio's REST API."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and not self.demo)


def without_password(url: str) -> str:
    """A database URL with any password (before the host, or as ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unreadable URL>"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    if password is None and query == parts.query:
        return url  # rebuilt, sqlite:/// would lose a slash
    host = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username or ''}:***@" if password is not None else parts.netloc[: -len(host)]
    return urlunsplit(parts._replace(netloc=user + host, query=query))


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `over` into `base` key by key; an `offices` table in `over` replaces the base's."""
    merged: dict[str, Any] = dict(base)
    for key, value in over.items():
        if key == "offices":
            merged[key] = value
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_range(text: str, where: str) -> TimeRange:
    try:
        start_text, end_text = text.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError as exc:
        raise ConfigError(f"{where}: '{text}' is not a range like 09:00-17:00") from exc
    if end <= start:
        raise ConfigError(f"{where}: '{text}' ends before it starts")
    return (start, end)


def _parse_office(key: str, raw: Mapping[str, Any]) -> Office:
    where = f"offices.{key}"
    hours: dict[int, tuple[TimeRange, ...]] = {}
    for day, ranges in dict(raw.get("hours", {})).items():
        if day not in DAYS:
            raise ConfigError(f"{where}.hours: unknown day '{day}' (use {', '.join(DAYS)})")
        parsed = sorted(_parse_range(r, f"{where}.hours.{day}") for r in ranges)
        hours[DAYS.index(day)] = tuple(parsed)
    numbers = tuple(str(n) for n in raw.get("numbers", []))
    for number in numbers:
        if not (number.startswith("+") and number[1:].isdigit()):
            raise ConfigError(f"{where}.numbers: '{number}' is not in E.164 form (+44...)")
    return Office(
        key=key,
        name=str(raw.get("name", key.title())),
        numbers=numbers,
        fallback=tuple(str(f) for f in raw.get("fallback", [])),
        hours=hours,
    )


def _parse_signposts(raw: list[Mapping[str, Any]]) -> tuple[Signpost, ...]:
    signs = []
    for index, item in enumerate(raw):
        where = f"answer_machine.signposting[{index}]"
        for key in ("name", "number"):
            if not str(item.get(key, "")).strip():
                raise ConfigError(f"{where}.{key}: missing")
        checked = item.get("checked")
        if isinstance(checked, str):
            try:
                checked = date.fromisoformat(checked)
            except ValueError as exc:
                raise ConfigError(f"{where}.checked: '{checked}' is not a date") from exc
        signs.append(Signpost(str(item["name"]), str(item["number"]), checked))
    return tuple(signs)


def _check_type(where: str, value: Any, default: Any) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        kind = "true or false"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        kind = "a whole number, 0 or more"
    elif isinstance(default, str):
        ok = isinstance(value, str)
        kind = "text"
    else:
        ok, kind = True, ""
    if not ok:
        raise ConfigError(f"{where}: expected {kind}, got {value!r}")


def _section(cls: type[Any], raw: Mapping[str, Any], name: str) -> Any:
    return _over(cls(), raw, name)


def _over(base: Any, raw: Mapping[str, Any], name: str) -> Any:
    """`base` with the settings of one TOML table over it, each checked against its type."""
    known = base.__dataclass_fields__
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"[{name}]: unknown setting(s) {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        _check_type(f"[{name}].{key}", value, getattr(base, key))
    return replace(base, **raw)


def _parse_database(raw: Mapping[str, Any]) -> DatabasePolicy:
    raw = dict(raw)
    base = DatabasePolicy()
    waits = {}
    for role in ("web", "background"):
        table = raw.pop(role, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"[database.{role}]: expected a table")
        waits[role] = _over(getattr(base, role), table, f"database.{role}")
    policy: DatabasePolicy = _over(base, raw, "database")
    if policy.pool_size < 1:
        raise ConfigError("[database].pool_size: expected 1 or more (0 would mean no limit)")
    return replace(policy, **waits)


def _parse_retention(raw: Mapping[str, Any]) -> Retention:
    retention: Retention = _section(Retention, raw, "retention")
    for key in retention.__dataclass_fields__:
        if getattr(retention, key) < 1:
            raise ConfigError(f"[retention].{key}: expected a number of days, 1 or more")
    return retention


def from_mapping(raw: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Build settings from merged TOML data and an environment mapping."""
    service = raw.get("service", {})
    try:
        tz = ZoneInfo(service.get("timezone", "Europe/London"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"service.timezone: unknown time zone {exc}") from exc
    bank_holidays = service.get("bank_holidays", "england")
    if bank_holidays not in ("england", "none"):
        raise ConfigError("service.bank_holidays: use 'england' or 'none'")
    offices = {key: _parse_office(key, value) for key, value in raw.get("offices", {}).items()}
    if not offices:
        raise ConfigError("offices: at least one office is needed")
    for office in offices.values():
        for partner in office.fallback:
            if partner not in offices:
                raise ConfigError(f"offices.{office.key}.fallback: no office '{partner}'")
    machine = dict(raw.get("answer_machine", {}))
    signposting = _parse_signposts(machine.pop("signposting", []))
    demo = env.get("HELPLINE_DEMO") == "1"
    token = env.get("TWILIO_AUTH_TOKEN") or (DEMO_AUTH_TOKEN if demo else None)
    production = _production(env, demo)
    return Settings(
        service_name=str(service.get("name", "SENDIASS")),
        voice=str(service.get("voice", "Polly.Amy")),
        timezone=tz,
        bank_holidays=bank_holidays,
        offices=offices,
        routing=_section(Routing, raw.get("routing", {}), "routing"),
        answer_machine=replace(
            _section(AnswerMachine, machine, "answer_machine"), signposting=signposting
        ),
        callbacks=_section(CallbackPolicy, raw.get("callbacks", {}), "callbacks"),
        retention=_parse_retention(raw.get("retention", {})),
        database=_parse_database(raw.get("database", {})),
        health=_section(Health, raw.get("health", {}), "health"),
        web=_section(Web, raw.get("web", {}), "web"),
        oidc=_parse_oidc(raw.get("oidc", {})),
        oidc_client_secret=env.get("OIDC_CLIENT_SECRET") or None,
        statistics=_section(StatisticsPolicy, raw.get("statistics", {}), "statistics"),
        # The demo never touches DATABASE_URL, which may be a real service's database.
        database_url=(
            env.get("HELPLINE_DEMO_DATABASE_URL") or "sqlite:///instance/demo.sqlite3"
            if demo
            else env.get("DATABASE_URL") or "sqlite:///instance/helpline.sqlite3"
        ),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=token,
        twilio_webhook_shared_key=env.get("TWILIO_WEBHOOK_SHARED_KEY") or None,
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        secret_key=env.get("SECRET_KEY") or (DEMO_SECRET_KEY if demo else ""),
        pseudonym_key=env.get("PSEUDONYM_KEY") or (DEMO_PSEUDONYM_KEY if demo else None),
        demo=demo,
        production=production,
        log_level=env.get("LOG_LEVEL", "INFO"),
    )


def _parse_oidc(raw: Mapping[str, Any]) -> Oidc:
    oidc: Oidc = _section(Oidc, raw, "oidc")
    if oidc.enabled and not (oidc.metadata_url.startswith("https://") and oidc.client_id):
        raise ConfigError(
            "[oidc]: enabled needs metadata_url (the provider's https://.../.well-known/"
            "openid-configuration) and client_id, and OIDC_CLIENT_SECRET in the environment"
        )
    return oidc


def _production(env: Mapping[str, str], demo: bool) -> bool:
    """Whether this is a production process (the Procfile's lines say HELPLINE_ENV=production),
    which must never fall back to a SQLite file of its own: each would have its own database."""
    kind = env.get("HELPLINE_ENV", "").strip().lower()
    if kind not in ("", "development", "production"):
        raise ConfigError(
            f"HELPLINE_ENV: '{env['HELPLINE_ENV']}' is not known; "
            "use 'production', or leave it unset on a developer's machine"
        )
    if kind == "production" and not demo and not env.get("DATABASE_URL"):
        raise ConfigError(
            "DATABASE_URL is not set. A production process (HELPLINE_ENV=production) will "
            "not start on a SQLite file of its own: set DATABASE_URL to the service's "
            "PostgreSQL database, e.g. postgresql://user:password@host:5432/helpline"
        )
    return kind == "production"


def load_toml(path: Path) -> dict[str, Any]:
    """Read one TOML file, naming it in any error."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        # A relative path is read from the folder the process started in (on a Procfile
        # platform, the app's folder): say which, since that is where it went wrong.
        where = "" if path.is_absolute() else f" (looked for {Path.cwd() / path})"
        raise ConfigError(f"{path}: no such configuration file{where}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the defaults, HELPLINE_CONFIG over them, and the environment."""
    env = os.environ if env is None else env
    raw = load_toml(DEFAULTS_FILE)
    if env.get("HELPLINE_DEMO") == "1":
        raw = merge(raw, load_toml(DEMO_FILE))
    if env.get("HELPLINE_CONFIG"):
        raw = merge(raw, load_toml(Path(env["HELPLINE_CONFIG"])))
    return from_mapping(raw, env)
