"""CLI commands (``flask --app wsgi ...``): demo data and staff accounts.

Invariant: staff (admin, support) accounts are created here only — there is
no sign-up page for them; a command that fails says why and exits non-zero.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

DEMO_USERS = (
    # email, display name, role, extra fields
    ("clipper@demo.contentflow.local", "Casey Clipper", "clipper", {"handle": "casey.clips", "country": "US"}),
    ("brand@demo.contentflow.local", "Bree Brand", "brand", {"company_name": "Bright Brand Co."}),
    ("snacks@demo.contentflow.local", "Sol Snacks", "brand", {"company_name": "Northwind Snacks"}),
    ("admin@demo.contentflow.local", "Ada Admin", "admin", {}),
    ("support@demo.contentflow.local", "Sam Support", "support", {}),
)


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the demo accounts and demo campaigns (idempotent) and print how to sign in."""
    from app.accounts import service
    from app.demo import build_demo_world
    from app.extensions import db

    password = current_app.config["DEMO_PASSWORD"]
    created = 0
    for email, name, role, extra in DEMO_USERS:
        if service.get_user_by_email(email) is None:
            service.create_user(email=email, password=password, display_name=name, role=role, verified=True,
                                **extra)
            created += 1
    db.session.commit()
    ids = {email: service.get_user_by_email(email).id for email, *_rest in DEMO_USERS}
    made = build_demo_world(brand_ids=[ids["brand@demo.contentflow.local"], ids["snacks@demo.contentflow.local"]],
                            clipper_id=ids["clipper@demo.contentflow.local"],
                            admin_id=ids["admin@demo.contentflow.local"])
    for line in made:
        click.echo(f"  + {line}")
    click.echo(f"Demo data ready ({created} new account(s), {len(made)} new demo item(s)). Sign in at /login with:")
    for email, _name, role, _extra in DEMO_USERS:
        click.echo(f"  {role:8s} {email}  password: {password}")
    click.echo("Staff accounts set up an authenticator app (TOTP) at their first sign-in.")


@click.group("users")
def users_command() -> None:
    """Manage accounts: create staff, suspend, reinstate."""


def _fail(message: str) -> None:
    raise click.ClickException(message)


@users_command.command("create-staff")
@click.option("--role", type=click.Choice(["admin", "support"]), required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name", default="", help="Display name (default: from the email).")
@click.password_option("--password", help="Asked for (twice) when not given.")
@with_appcontext
def create_staff_command(role: str, email: str, display_name: str, password: str) -> None:
    """Create an admin or support account; they enrol TOTP at first sign-in."""
    from app.accounts import staff
    from app.errors import DomainError

    try:
        user = staff.create_staff(role=role, email=email, display_name=display_name or email.split("@")[0],
                                  password=password)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"Created {role} {user.email} (id {user.id}). At first sign-in they set up an authenticator app.")


def _user_id(email: str) -> int:
    from app.accounts import service

    user = service.get_user_by_email(email)
    if user is None:
        _fail(f"No account with the email {email}.")
    return user.id


@users_command.command("suspend")
@click.option("--email", required=True)
@click.option("--reason", required=True, help="Shown to the user.")
@with_appcontext
def suspend_command(email: str, reason: str) -> None:
    """Suspend an account: its sessions end at their next request, with the reason shown."""
    from app.accounts import service
    from app.errors import DomainError

    try:
        service.suspend_user(_user_id(email), reason)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"Suspended {email}.")


@users_command.command("reinstate")
@click.option("--email", required=True)
@with_appcontext
def reinstate_command(email: str) -> None:
    """Lift a suspension."""
    from app.accounts import service

    service.reinstate_user(_user_id(email))
    click.echo(f"Reinstated {email}.")
