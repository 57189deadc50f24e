"""What a running process is wired with: settings, sessions, the clock and the dialer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from helpline.dialer import Dialer
from helpline.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Shared by the web app, the CLI and the scheduler; `clock` is the only source of now."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    dialer: Dialer
