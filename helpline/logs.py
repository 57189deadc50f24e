"""Logging set-up: plain lines to stderr; personal data never goes into them."""

import logging
import sys
import traceback
from pathlib import Path

from sqlalchemy import exc as db_errors

# A database that cannot be reached or gave up waiting, rather than a fault in the service.
DATABASE_UNAVAILABLE = (
    db_errors.OperationalError,
    db_errors.InterfaceError,
    db_errors.TimeoutError,
)
_OWN_CODE = tuple(
    Path(__file__).resolve().parent.parent / package
    for package in ("helpline", "webhooks", "callbacks", "calls", "rota")
)
FRAMES_SHOWN = 3


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr once per process."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The scheduler library reports every run; our own job lines say what each run did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _own(filename: str) -> bool:
    """Whether a frame is in the service's own code, not a library's."""
    path = Path(filename).resolve()
    return any(path.is_relative_to(root) for root in _OWN_CODE)


def describe_failure(exc: BaseException) -> str:
    """An error as a log line may show it: its type, and where in the service's own code it
    happened (the innermost few frames), never its message, which can carry phone numbers or
    notes. A database that cannot be reached says so: 'database unavailable (OperationalError)
    at service.py:52 <- service.py:76 <- voice.py:110'."""
    frames = traceback.extract_tb(exc.__traceback__)
    shown = [frame for frame in frames if _own(frame.filename)] or frames[-1:]
    place = " <- ".join(
        f"{Path(frame.filename).name}:{frame.lineno}" for frame in reversed(shown[-FRAMES_SHOWN:])
    )
    kind = type(exc).__name__
    what = f"database unavailable ({kind})" if isinstance(exc, DATABASE_UNAVAILABLE) else kind
    return f"{what} at {place}" if place else what
