"""Logging set-up: plain lines to stderr; personal data never goes into them."""

import logging
import sys


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
