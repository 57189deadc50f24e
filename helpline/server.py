"""Serving on one machine: gunicorn in this process, with one worker and a few threads."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run(app: Flask, host: str, port: int, **options: Any) -> None:
    """Serve `app` until interrupted."""
    settings = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "threads": 8,
        "timeout": 30,
        "accesslog": None,
    }
    settings.update(options)
    _Server(app, settings).run()
