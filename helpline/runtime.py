"""What a running process is wired with: settings, a session factory and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helpline.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Shared by the web app, the CLI and the scheduler; `clock` is the only source of now."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    services: dict[str, Any]
