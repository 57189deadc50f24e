"""Starting as production: the Procfile's processes refuse to start without what they need, and
say why; a developer's commands and the demo keep their SQLite defaults.

The Procfile's own lines are run, as a platform runs them (through a shell, from the app's
folder), with the environment each case gives.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpline import settings as settings_module
from helpline.settings import ConfigError
from tests.constants import BASE_URL

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)
PROCESSES = ("release", "web", "clock")


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(process: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one Procfile process as a platform would, with only `env` set; stop it if it is
    still running after 30 s (a process that should have refused, but started)."""
    base = {"PATH": f"{BIN}:/usr/bin:/bin", "PORT": str(free_port()), "HOME": str(tmp_path)}
    proc = subprocess.Popen(  # noqa: S603 - the Procfile's own line
        ["/bin/bash", "-c", procfile()[process]],
        cwd=tmp_path,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        output += "\n[still running after 30 s: stopped]"
    return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")


def test_the_procfile_names_the_three_processes() -> None:
    assert set(procfile()) == set(PROCESSES)


@pytest.mark.parametrize("process", PROCESSES)
def test_each_procfile_process_refuses_to_start_without_database_url(
    process: str, tmp_path: Path
) -> None:
    ran = start(process, tmp_path, SECRET_KEY="k", TWILIO_AUTH_TOKEN="t")

    assert ran.returncode not in (0, None), ran.stdout
    assert "DATABASE_URL is not set" in ran.stdout
    assert "[still running" not in ran.stdout
    assert not (tmp_path / "instance").exists()  # no SQLite file of its own was made


def test_the_web_process_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/helpline.sqlite3"

    ran = start("web", tmp_path, DATABASE_URL=url, TWILIO_AUTH_TOKEN="t")

    assert ran.returncode not in (0, None), ran.stdout
    assert "SECRET_KEY is not set" in ran.stdout
    assert "[still running" not in ran.stdout


# The same rules, as the settings and the web app's entry point apply them.


def test_production_without_database_url_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_module.load({"HELPLINE_ENV": "production"})

    assert "DATABASE_URL is not set" in str(caught.value)
    assert "HELPLINE_ENV=production" in str(caught.value)


def test_a_developer_and_the_demo_keep_their_sqlite_defaults() -> None:
    assert settings_module.load({}).database_url == "sqlite:///instance/helpline.sqlite3"
    demo = settings_module.load({"HELPLINE_ENV": "production", "HELPLINE_DEMO": "1"})
    assert demo.database_url == "sqlite:///instance/demo.sqlite3"


def test_an_unknown_helpline_env_is_refused_rather_than_taken_for_development() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_module.load({"HELPLINE_ENV": "prod", "DATABASE_URL": "sqlite:///x.sqlite3"})

    assert "HELPLINE_ENV" in str(caught.value) and "'prod'" in str(caught.value)


def test_the_web_app_without_secret_key_will_not_start_except_in_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from helpline.app import wsgi

    for name in ("SECRET_KEY", "HELPLINE_ENV", "HELPLINE_CONFIG", "HELPLINE_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/helpline.sqlite3")
    monkeypatch.setenv("HELPLINE_DEMO_DATABASE_URL", f"sqlite:///{tmp_path}/demo.sqlite3")

    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        wsgi()
    monkeypatch.setenv("HELPLINE_DEMO", "1")
    assert wsgi().config["SECRET_KEY"]  # the demo's published key


def test_the_web_app_warns_at_start_of_what_it_lacks_without_telling_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from helpline.app import wsgi

    for name in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "HELPLINE_CONFIG", "HELPLINE_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/helpline.sqlite3")
    monkeypatch.setenv("SECRET_KEY", "sess10n-secret")
    caplog.set_level(logging.WARNING)

    wsgi()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("PUBLIC_BASE_URL is not set" in w for w in warnings)
    assert any("TWILIO_AUTH_TOKEN is not set" in w for w in warnings)
    assert "sess10n-secret" not in caplog.text

    caplog.clear()
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-t0ken")
    wsgi()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "twilio-t0ken" not in caplog.text
