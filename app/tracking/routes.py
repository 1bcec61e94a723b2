"""The admin verification queue (admin home) and its inline actions.

Invariants: admins only (the blueprint checks every request, HX-* headers only pick
the fragment); every action goes through a tracking service that takes the row's
claim first, so an admin acting on a row another admin holds gets a 409 with the
reason, inside that row; each action answers with the row fragment
(``tracking/_row.html``, also what the page renders per row) for htmx, or a 303 back
to the queue without JavaScript; routes never commit and hold no rules.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from app.db import utcnow
from app.errors import DomainError
from app.htmx import add_vary, is_htmx, render
from app.security import role_required
from app.social.platforms import PLATFORM_LABELS
from app.tracking import claims, disputes, fraud, service, snapshots
from app.tracking import queue as work_queue

bp = Blueprint("tracking", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def _admins_only():
    return None


def _context(**extra):
    return dict(labels=PLATFORM_LABELS, admin_id=current_user.id, now=utcnow(), sparkline=work_queue.sparkline,
                bulk_max=fraud.BULK_VERIFY_MAX_RISK, dispute_outcomes=disputes.OUTCOME_CHOICES,
                row_actions=lambda row: service.queue_row_actions(row, current_user), **extra)


def _row(submission_id: int, *, status: int = 200, error: str | None = None, notice: str | None = None):
    if not is_htmx():
        if error:
            flash(error, "error")
        elif notice:
            flash(notice, "success")
        return redirect(url_for("tracking.queue") + f"#row-{submission_id}", code=303)
    rows = work_queue.queue_rows(only=submission_id)
    return add_vary(render("tracking/_row.html", status=status,
                           **_context(row=rows[0] if rows else None, done_id=submission_id, error=error,
                                      notice=notice)))


def _act(submission_id: int, action, notice: str):
    try:
        action()
    except DomainError as exc:
        return _row(submission_id, status=exc.status_code, error=exc.message)
    return _row(submission_id, notice=notice)


@bp.route("/queue")
def queue():  # the endpoint name tracking.queue is the admin home
    rows = work_queue.queue_rows()
    bulk = snapshots.bulk_verifiable([row.submission_id for row in rows])
    return render("tracking/queue.html", **_context(rows=rows, bulk_ids=bulk, error=None, notice=None,
                                                    done_id=None))


@bp.route("/queue/next", methods=["POST"])
def take_next():
    submission_id = claims.claim_next(current_user.id)
    if submission_id is None:
        flash("Nothing left on the queue that another admin is not already working on.", "info")
        return redirect(url_for("tracking.queue"), code=303)
    return redirect(url_for("tracking.queue") + f"#row-{submission_id}", code=303)


@bp.route("/queue/<int:submission_id>/claim", methods=["POST"])
def claim(submission_id: int):
    if claims.claim(submission_id, current_user.id):
        return _row(submission_id, notice="This row is yours for the next few minutes.")
    return _row(submission_id, status=409, error="Another admin is working on this post right now.")


@bp.route("/queue/<int:submission_id>/count", methods=["POST"])
def enter_count(submission_id: int):
    form = request.form
    return _act(submission_id, lambda: snapshots.enter_count(
        submission_id, current_user.id, form.get("views"), form.get("evidence_key"), form.get("likes"),
        form.get("comments")), "Count recorded; verify it when you have checked it.")


@bp.route("/snapshots/<int:snapshot_id>/verify", methods=["POST"])
def verify(snapshot_id: int):
    submission_id = snapshots.submission_of(snapshot_id)
    return _act(submission_id, lambda: snapshots.verify(snapshot_id, current_user.id), "Count verified.")


@bp.route("/snapshots/<int:snapshot_id>/evidence")
def evidence(snapshot_id: int):
    from app.tracking.evidence import evidence_url

    response = redirect(evidence_url(snapshots.evidence_key_of(snapshot_id)), code=302)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/snapshots/<int:snapshot_id>/reject", methods=["POST"])
def reject(snapshot_id: int):
    submission_id = snapshots.submission_of(snapshot_id)
    return _act(submission_id, lambda: snapshots.reject(snapshot_id, current_user.id, request.form.get("reason")),
                "Count rejected.")


@bp.route("/queue/<int:submission_id>/flag", methods=["POST"])
def flag(submission_id: int):
    return _act(submission_id, lambda: service.flag_submission(submission_id, current_user.id,
                                                               request.form.get("reason", "")), "Post flagged.")


@bp.route("/queue/<int:submission_id>/remove", methods=["POST"])
def remove(submission_id: int):
    return _act(submission_id, lambda: service.remove_submission(submission_id, current_user.id,
                                                                 request.form.get("reason", "")), "Post removed.")


@bp.route("/signals/<int:signal_id>/clear", methods=["POST"])
def clear_signal(signal_id: int):
    submission_id = service.signal_submission(signal_id)
    return _act(submission_id, lambda: service.clear_signal(signal_id, current_user.id), "Signal cleared.")


@bp.route("/disputes/<int:dispute_id>/resolve", methods=["POST"])
def resolve_dispute(dispute_id: int):
    form = request.form
    submission_id = disputes.dispute_submission(dispute_id)
    return _act(submission_id, lambda: disputes.resolve(dispute_id, current_user.id, form.get("outcome", ""),
                                                        form.get("note"), form.get("views")), "Dispute resolved.")


@bp.route("/queue/bulk-verify", methods=["POST"])
def bulk_verify():
    ids = [int(v) for v in request.form.getlist("snapshot_id") if v.isdigit()]
    verified, skipped = snapshots.bulk_verify(current_user.id, ids)
    flash(f"Verified {verified} platform count(s)" + (f"; {skipped} skipped (signals, risk or taken)."
                                                      if skipped else "."), "success")
    return redirect(url_for("tracking.queue"), code=303)
