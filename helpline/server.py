"""Serving on one machine: gunicorn in this process, with one worker and a few threads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from sqlalchemy import Engine


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


def run(
    app: Flask,
    host: str,
    port: int,
    engines: Iterable[Engine],
    in_worker: tuple[Callable[[], None], Callable[[], None]] | None = None,
    **options: Any,
) -> None:
    """Serve `app` until interrupted; `in_worker` starts and stops work beside the app.

    Gunicorn forks its worker from this process. Database connections (SQLite's above all)
    must not cross a fork, so this process closes its pools first and the worker opens its own;
    the scheduler, which uses the database, runs in the worker rather than here.
    """
    start, stop = in_worker or (lambda: None, lambda: None)
    for engine in engines:
        engine.dispose()
    settings = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "threads": 8,
        "timeout": 30,
        "accesslog": None,
        "post_worker_init": lambda _worker: start(),
        "worker_exit": lambda _server, _worker: stop(),
    }
    settings.update(options)
    _Server(app, settings).run()
