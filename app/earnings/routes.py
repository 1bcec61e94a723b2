"""The clipper's earnings page (/earnings): what is pending or owed back, and per campaign and
per post what each verified count earned and why (``earnings.reading``).

Invariants: clippers only, their own rows only (the read model is asked with
``current_user.id``, never an id from the request); read-only, never commits. Balances,
payout history and the payout method are payouts' page (/payouts), which sits above
earnings and links here; this module never imports payouts.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.earnings import reading
from app.htmx import render
from app.security import role_required

bp = Blueprint("earnings", __name__)


@bp.route("/earnings")
@role_required("clipper")
def mine():
    return render("earnings/mine.html", pending_and_owed=reading.pending_and_owed(current_user.id),
                  campaign_earnings=reading.breakdown_for(current_user.id))
