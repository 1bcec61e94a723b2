"""Payout pages: support's payout screens (/support/payouts) and the clipper's balance, payouts and
payout method (/payouts; what each post earned is earnings' page, /earnings).

Invariants: support and admin (TOTP-verified by the session gate) alone reach
/support/...; a clipper's pages only ever load the signed-in clipper's own
balances, payouts and method (no id in the URL to guess); marking a payout paid
takes two posts (enter the reference, then confirm it); every form works
without JavaScript; routes call services only and never commit.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, url_for
from flask_login import current_user

from app.earnings import reading as earnings
from app.errors import DomainError
from app.htmx import hx_redirect, is_partial, render
from app.payouts import rails, reading, service
from app.payouts.forms import ManualMethodForm, MarkFailedForm, MarkPaidForm, PlaceHoldForm, PlainActionForm
from app.payouts.run import run_payouts
from app.security import role_required

bp = Blueprint("payouts", __name__)

STAFF = ("support", "admin")


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Please check your input."


# -- support ------------------------------------------------------------------------------

def _support_page(status: int = 200, hold_form: PlaceHoldForm | None = None):
    return render(
        "payouts/index.html", status=status,
        counts=reading.status_counts(), manual=reading.manual_payouts_to_pay(), recent=reading.recent_payouts(),
        holds=service.open_holds(), hold_form=hold_form or PlaceHoldForm(), action_form=PlainActionForm(),
        paid_form=MarkPaidForm(), failed_form=MarkFailedForm(),
    )


@bp.route("/support/payouts")
@role_required(*STAFF)
def index():
    return _support_page()


@bp.route("/support/payouts/run", methods=["POST"])
@role_required(*STAFF)
def run_now():
    if not PlainActionForm().validate_on_submit():
        return _support_page(400)
    run = run_payouts(trigger="support", started_by_id=current_user.id)
    flash(f"Payout run {run.id}: {run.payouts_created} payout(s) created.", "success")
    return hx_redirect(url_for("payouts.index"))


@bp.route("/support/payouts/manual.csv")
@role_required(*STAFF)
def export_manual():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["payout_id", "clipper_email", "name", "amount", "currency", "method", "paypal_email",
                     "account_holder", "account_number", "routing_number", "created_at"])
    for row in reading.manual_payouts_to_pay():
        payout, details = row["payout"], row["details"]
        amount = f"{payout.amount_cents // 100}.{payout.amount_cents % 100:02d}"
        writer.writerow([payout.id, row["email"], row["name"], amount, payout.currency, row["kind"] or "",
                         details.get("paypal_email", ""), details.get("account_holder", ""),
                         details.get("account_number", ""), details.get("routing_number", ""),
                         payout.created_at.isoformat()])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=manual-payouts.csv",
                             "Cache-Control": "no-store"})


@bp.route("/support/payouts/<int:payout_id>")
@role_required(*STAFF)
def show(payout_id: int):
    return render("payouts/show.html", item=reading.payout_with_clipper(payout_id),
                  events=reading.audit_trail(payout_id))


def _manual_card(payout_id: int, status: int = 200, **context):
    """One manual payout's card (htmx swaps it in place); 409 if it is no longer waiting."""
    rows = reading.manual_payouts_to_pay(payout_id)
    if not rows:
        flash(f"Payout {payout_id} is no longer waiting to be paid by hand.", "error")
        return hx_redirect(url_for("payouts.index"))
    return render("payouts/index.html", block="manual_card", status=status, row=rows[0],
                  paid_form=MarkPaidForm(), failed_form=MarkFailedForm(), **context)


@bp.route("/support/payouts/<int:payout_id>/paid", methods=["POST"])
@role_required(*STAFF)
def mark_paid(payout_id: int):
    form = MarkPaidForm()
    if not form.validate_on_submit():
        if is_partial():
            return _manual_card(payout_id, 422, paid_error=_first_error(form))
        flash(_first_error(form), "error")
        return _support_page(422)
    if form.confirm.data != "yes":
        if is_partial():  # step one, in place: the card asks to confirm
            return _manual_card(payout_id, confirm_reference=form.reference.data)
        return render("payouts/confirm_paid.html", item=reading.payout_with_clipper(payout_id), form=form)
    payout = service.mark_paid(payout_id, form.reference.data, actor_id=current_user.id)
    flash(f"Payout {payout.id} marked paid (reference {payout.reference}).", "success")
    return hx_redirect(url_for("payouts.index"))


@bp.route("/support/payouts/<int:payout_id>/failed", methods=["POST"])
@role_required(*STAFF)
def mark_failed(payout_id: int):
    form = MarkFailedForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _support_page(422)
    payout = service.mark_failed(payout_id, form.reason.data, actor_id=current_user.id)
    flash(f"Payout {payout.id} marked failed; the money is back in the clipper's available balance.", "success")
    return hx_redirect(url_for("payouts.index"))


@bp.route("/support/payouts/holds", methods=["POST"])
@role_required(*STAFF)
def place_hold():
    form = PlaceHoldForm()
    if not form.validate_on_submit():
        return _support_page(422, hold_form=form)
    try:
        clipper = service.find_clipper(form.clipper.data)
        service.place_hold(clipper.id, form.reason.data, by=current_user.id)
    except DomainError as error:
        form.clipper.errors = [error.message]
        return _support_page(error.status_code, hold_form=form)
    flash(f"Payouts to {clipper.email} are on hold.", "success")
    return hx_redirect(url_for("payouts.index"))


@bp.route("/support/payouts/holds/<int:hold_id>/release", methods=["POST"])
@role_required(*STAFF)
def release_hold(hold_id: int):
    if not PlainActionForm().validate_on_submit():
        return _support_page(400)
    service.release_hold(hold_id, by=current_user.id)
    flash("Hold released.", "success")
    return hx_redirect(url_for("payouts.index"))


# -- clipper ------------------------------------------------------------------------------

def _clipper_page(status: int = 200, method_form: ManualMethodForm | None = None):
    account = service.payout_account(current_user.id)
    if method_form is None:
        method_form = ManualMethodForm(kind=account.manual_kind if account else None)
    return render(
        "payouts/mine.html", status=status, balances=reading.balances_for(current_user.id),
        pending_and_owed=earnings.pending_and_owed(current_user.id),
        payouts=reading.payouts_of(current_user.id), account=account, method_form=method_form,
        action_form=PlainActionForm(), stripe_mode=service.payments_mode() == "stripe",
    )


@bp.route("/payouts")
@role_required("clipper")
def mine():
    return _clipper_page()


@bp.route("/payouts/method", methods=["POST"])
@role_required("clipper")
def save_method():
    form = ManualMethodForm()
    if not form.validate_on_submit():
        return _clipper_page(422, form)
    try:
        service.save_manual_method(current_user.id, form.kind.data, form.data)
    except DomainError as error:
        getattr(form, error.field or "kind").errors = [error.message]
        return _clipper_page(error.status_code, form)
    flash("Payout method saved.", "success")
    return hx_redirect(url_for("payouts.mine"))


def _onboarding_redirect():
    link = service.start_stripe_onboarding(
        current_user.id, refresh_url=url_for("payouts.stripe_refresh", _external=True),
        return_url=url_for("payouts.stripe_return", _external=True))
    return redirect(link, code=303)


@bp.route("/payouts/stripe/connect", methods=["POST"])
@role_required("clipper")
def connect_stripe():
    if not PlainActionForm().validate_on_submit():
        return _clipper_page(400)
    return _onboarding_redirect()


@bp.route("/payouts/stripe/refresh")
@role_required("clipper")
def stripe_refresh():
    # Stripe sends the clipper here when the single-use link expired: make a fresh one.
    return _onboarding_redirect()


@bp.route("/payouts/stripe/return")
@role_required("clipper")
def stripe_return():
    account = service.refresh_stripe_account(current_user.id)
    if account is not None and account.stripe_payouts_enabled:
        flash("Stripe is connected: your next payouts go to your Stripe account.", "success")
    elif account is not None and account.stripe_account_id:
        flash("Stripe still needs some details before it can pay you. Continue the set-up any time.", "info")
    return redirect(url_for("payouts.mine"), code=303)


@bp.app_template_filter("payout_status")
def payout_status_label(status: str) -> str:
    return {"pending": "Pending", "in_flight": "On its way", "paid": "Paid", "failed": "Failed",
            "returned": "Returned"}.get(status, status)


@bp.app_template_filter("payout_rail")
def payout_rail_label(method: str, paid: bool = False) -> str:
    """How a payout's rail reads on a page (``paid=True``: support's payout page)."""
    rail = rails.BY_KEY.get(method)
    if rail is None:
        return method
    return rail.paid_label if paid else rail.label
