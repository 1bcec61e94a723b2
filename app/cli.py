"""CLI commands (``flask --app wsgi ...``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

DEMO_USERS = (
    ("clipper@demo.contentflow.local", "Casey Clipper", "clipper"),
    ("brand@demo.contentflow.local", "Bright Brand Co.", "brand"),
    ("admin@demo.contentflow.local", "Ada Admin", "admin"),
    ("support@demo.contentflow.local", "Sam Support", "support"),
)


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the demo accounts (idempotent) and print how to sign in."""
    from sqlalchemy import select

    from app.accounts import service
    from app.accounts.models import User
    from app.extensions import db

    password = current_app.config["DEMO_PASSWORD"]
    created = 0
    for email, name, role in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            service.create_user(email=email, password=password, display_name=name, role=role, verified=True)
            created += 1
    click.echo(f"Demo data ready ({created} new account(s)). Sign in at /login with:")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {role:8s} {email}  password: {password}")
