"""`helpline users`: staff accounts for the staff pages."""

from __future__ import annotations

import getpass
import sys

import click

from helpline.cli.base import State, fail, pass_state, print_json


def read_password() -> str:
    """A new password: asked twice on a terminal, or one line of standard input otherwise."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password (12 characters or more): ")
        if getpass.getpass("The same password again: ") != first:
            fail("the two passwords differ; nothing changed")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@click.group()
def users() -> None:
    """Staff accounts: who may sign in to the staff pages, with which role."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, as pages show it.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["adviser", "duty-officer", "manager", "admin"]),
    help="What the account may do.",
)
@click.option("--adviser", help="The adviser of the rota this person is (by name).")
@pass_state
def users_add(state: State, email: str, name: str, role: str, adviser: str | None) -> None:
    """Add an account; the password is asked for (or read from standard input)."""
    from accounts import service
    from rota.service import UnknownAdviser, find_adviser

    password = read_password()
    try:
        with state.transaction() as session:
            person = find_adviser(session, adviser) if adviser else None
            account = service.add(
                session,
                email=email,
                name=name,
                role=service.parse_role(role),
                password=password,
                adviser=person,
                now=state.runtime.clock(),
            )
            text = f"Added {account.email} ({account.role})" + (
                f", linked to adviser {person.name}." if person else "."
            )
    except (service.AccountError, service.WeakPassword, UnknownAdviser) as exc:
        fail(f"{exc} Nothing changed.")
    click.echo(text)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def users_list(state: State, as_json: bool) -> None:
    """Every account, by email."""
    from accounts import service

    with state.transaction() as session:
        rows = [
            {
                "email": account.email,
                "name": account.name,
                "role": account.role,
                "adviser": account.adviser.name if account.adviser else None,
                "active": account.active,
                "created_at": account.created_at.isoformat(),
            }
            for account in service.all_accounts(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No accounts yet: add one with `helpline users add`.")
    for row in rows:
        state_text = "" if row["active"] else "  (disabled)"
        click.echo(f"{row['email']}  {row['role']}  {row['name']}{state_text}")


@users.command("disable")
@click.argument("email")
@pass_state
def users_disable(state: State, email: str) -> None:
    """Stop an account from signing in, and sign it out everywhere."""
    from accounts import service

    try:
        with state.transaction() as session:
            account = service.get(session, email)
            changed = service.disable(session, account, state.runtime.clock())
            shown = account.email
    except service.AccountError as exc:
        fail(str(exc))
    click.echo(f"Disabled {shown}." if changed else f"{shown} was already disabled.")


@users.command("set-password")
@click.argument("email")
@pass_state
def users_set_password(state: State, email: str) -> None:
    """Give an account a new password (asked for, or read from standard input)."""
    from accounts import service

    try:
        with state.transaction() as session:
            account = service.get(session, email)
            service.set_password(session, account, read_password(), state.runtime.clock())
            shown = account.email
    except (service.AccountError, service.WeakPassword) as exc:
        fail(f"{exc} Nothing changed.")
    click.echo(f"Set a new password for {shown}; its sessions are ended.")
