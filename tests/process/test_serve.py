"""`helpline serve` as a user runs it: a real server process, answering webhooks over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HELPLINE = str(Path(sys.executable).with_name("helpline"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo served on a free port with its own database, stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE", "TWILIO"))}
    env.update(
        HELPLINE_DEMO="1",
        HELPLINE_DEMO_DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    said = (tmp_path / "said.txt").open("w")  # what the command printed, for the tests to read
    server = subprocess.Popen(  # noqa: S603 - our own command
        [HELPLINE, "serve", "--port", str(port)],
        env=env,
        stdout=said,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.3)
        yield base, env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        said.close()


def test_a_new_demo_says_once_how_to_sign_in(
    demo_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    said = (tmp_path / "said.txt").read_text()
    assert "Demo: made the demo rota" in said  # a new demo: its accounts were made just now
    assert said.count("password 'demo-password-2026'") == 1
    assert "Demo rota:" not in said  # made a moment before: not imported and reported again
    assert "/sign-in" in said


def test_the_demo_server_answers_health_checks_and_plays_whole_calls(
    demo_server: tuple[str, dict[str, str]],
) -> None:
    base, env = demo_server
    for _ in range(3):  # more than once: a stuck database lock shows on the second request
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:  # noqa: S310
            health = json.load(response)
            assert (health["status"], health["failed"]) == ("ok", [])  # the scheduler ran too
    played = subprocess.run(  # noqa: S603
        [
            HELPLINE,
            "simulate",
            "call",
            "--to",
            "herefordshire",
            "--voicemail",
            "Alex Adams",
            "--accept",
            "Bryn Bowen",
            "--url",
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert played.returncode == 0, played.stderr
    assert "caller connected to +447700900002" in played.stdout
    assert "times are real" in played.stderr  # it cannot move a running service's clock
    listed = subprocess.run(  # noqa: S603
        [HELPLINE, "calls", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [call] = json.loads(listed.stdout)
    assert (call["outcome"], call["answered_by"]) == ("answered", "Bryn Bowen")
