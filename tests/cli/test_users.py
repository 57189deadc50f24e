"""`helpline users`: staff accounts made, listed, disabled and given passwords from the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from accounts import passwords
from helpline.cli import main
from helpline.demo import DEMO_PASSWORD
from tests.constants import ANN, PASSWORD, TOKEN

ROTA = (
    "name,phone,office,date,start,end,duty_officer\n"
    f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,no\n"
)


class Users:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "users.sqlite3"
        self.tmp_path = tmp_path

    def run(self, *args: str, stdin: str | None = None, demo: bool = False) -> Result:
        env = {
            "DATABASE_URL": f"sqlite:///{self.db}",
            "HELPLINE_DEMO_DATABASE_URL": f"sqlite:///{self.db}",
            "HELPLINE_DEMO": "1" if demo else "",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": None,
            "HELPLINE_CONFIG": None,
        }
        return CliRunner().invoke(main, list(args), input=stdin, env=env)

    def ok(self, *args: str, stdin: str | None = None, demo: bool = False) -> str:
        result = self.run(*args, stdin=stdin, demo=demo)
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    def listed(self) -> list[dict[str, object]]:
        rows = json.loads(self.ok("users", "list", "--json"))
        assert isinstance(rows, list)
        return rows

    def stored_hash(self, email: str) -> str:
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as conn:
                return str(
                    conn.execute(
                        text("SELECT password_hash FROM account WHERE email = :e"), {"e": email}
                    ).scalar_one()
                )
        finally:
            engine.dispose()


@pytest.fixture
def users(tmp_path: Path) -> Users:
    made = Users(tmp_path)
    made.ok("db", "upgrade")
    return made


def test_users_add_reads_the_password_from_standard_input_and_links_an_adviser(
    users: Users, tmp_path: Path
) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text(ROTA, encoding="utf-8")
    users.ok("rota", "import", str(rota))

    said = users.ok(
        "users", "add", "Alex@Council.example", "--name", "Alex Adams", "--role", "duty-officer",
        "--adviser", "alex adams", stdin=PASSWORD + "\n",
    )  # fmt: skip

    assert "alex@council.example" in said
    [row] = users.listed()
    assert {k: row[k] for k in ("email", "name", "role", "adviser", "active")} == {
        "email": "alex@council.example",
        "name": "Alex Adams",
        "role": "duty-officer",
        "adviser": "Alex Adams",
        "active": True,
    }
    assert str(row["created_at"]).startswith("20")
    stored = users.stored_hash("alex@council.example")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)


def test_users_add_refuses_a_short_password_a_taken_email_and_an_unknown_adviser(
    users: Users,
) -> None:
    add = ("users", "add", "a@council.example", "--name", "A", "--role", "admin")

    short = users.run(*add, stdin="too-short\n")
    users.ok(*add, stdin=PASSWORD + "\n")
    again = users.run("users", "add", "A@COUNCIL.example", "--name", "B", "--role", "manager",
                      stdin=PASSWORD + "\n")  # fmt: skip
    nobody = users.run("users", "add", "c@council.example", "--name", "C", "--role", "adviser",
                       "--adviser", "Nobody", stdin=PASSWORD + "\n")  # fmt: skip

    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert again.exit_code != 0 and "already an account" in again.output
    assert nobody.exit_code != 0 and "no adviser called 'Nobody'" in nobody.output
    assert [row["email"] for row in users.listed()] == ["a@council.example"]


def test_users_disable_and_set_password(users: Users) -> None:
    users.ok("users", "add", "a@council.example", "--name", "A", "--role", "admin",
             stdin=PASSWORD + "\n")  # fmt: skip

    assert "Disabled" in users.ok("users", "disable", "A@council.example")
    assert "already disabled" in users.ok("users", "disable", "a@council.example")
    users.ok("users", "set-password", "a@council.example", stdin="another-long-password\n")

    assert users.listed()[0]["active"] is False
    assert passwords.verify(users.stored_hash("a@council.example"), "another-long-password")
    missing = users.run("users", "disable", "nobody@council.example")
    assert missing.exit_code != 0 and "no account for nobody@council.example" in missing.output


def test_the_demo_has_one_account_per_role_with_the_published_password(users: Users) -> None:
    listed = users.run("users", "list", "--json", demo=True)
    assert "password 'demo-password-2026'" in listed.stderr

    rows = {row["email"]: row for row in users.listed()}

    assert set(rows) == {
        "adviser@demo.test",
        "duty-officer@demo.test",
        "manager@demo.test",
        "admin@demo.test",
    }
    assert rows["adviser@demo.test"]["adviser"] == "Bryn Bowen"
    assert rows["duty-officer@demo.test"]["adviser"] == "Alex Adams"
    assert passwords.verify(users.stored_hash("admin@demo.test"), DEMO_PASSWORD)
