"""Values the tests share, each defined here once.

Phone numbers are in Ofcom's drama ranges (07700 900xxx, 01632 960xxx), which no real phone has.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")  # the service's time zone in config/defaults.toml

# The week of the `clock` fixture, which starts at Monday 30 November 2026, 10:00 in London.
MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)
FRIDAY = date(2026, 12, 4)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a London wall-clock time (the code works in UTC instants)."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


# The service as the test settings configure it (see `tests.factories.make_settings`).
TOKEN = "test-auth-token"  # TWILIO_AUTH_TOKEN: signs the webhooks, and the REST API's password
BASE_URL = "https://helpline.example.test"  # PUBLIC_BASE_URL
HEREFORD = "+441632960001"  # the helpline numbers of config/defaults.toml
WORCS = "+441632960002"

# Callers.
PARENT = "+447700900123"
OTHER_PARENT = "+447700900124"


def parent(n: int) -> str:
    """A distinct caller number, the n-th of a series (the 23rd is PARENT)."""
    return f"+447700900{100 + n:03d}"


# Advisers' phones. The demo rota gives the same four to Alex Adams, Bryn Bowen, Cara Clarke
# and Dev Desai.
ANN, BEN, CAT, DAN = "+447700900001", "+447700900002", "+447700900003", "+447700900004"

# Twilio's REST API for the test account, as the `twilio` fixture (tests/conftest.py) answers it.
ACCOUNT = "AC" + "0" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
CALLS_URL = f"{API}/Calls.json"
RECORDINGS_URL = f"{API}/Recordings.json"

# Staff accounts of the staff pages.
PASSWORD = "correct-horse-battery"  # long enough (12 characters or more)
ADMIN_EMAIL = "admin@council.example"

# PSEUDONYM_KEY: the key of callers' pseudonyms in the tests that set it.
PSEUDONYM_KEY = "test-pseudonym-key-0123456789"
