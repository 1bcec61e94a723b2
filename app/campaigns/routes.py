"""Campaign pages for everyone and for clippers: the public feed, a campaign's page,
applying, "My campaigns", and asset downloads. Brand pages live in ``brand_routes``.

Invariants: the feed is public (anonymous users see only it); every other page checks
the object through the service (``campaign_for``, ``download_url``), so a miss and a
forbidden object look the same (404); routes never commit and hold no rules; the
feed's "load more" is the same ``cards`` block the page renders.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.campaigns import applications, assets, browse, service
from app.campaigns.blueprint import bp
from app.campaigns.forms import ActionForm, ApplyForm
from app.campaigns.models import PLATFORM_LABELS, PLATFORMS
from app.errors import DomainError, ValidationError
from app.htmx import add_vary, hx_redirect, render
from app.money import parse_money
from app.security import role_required

__all__ = ["bp"]


def _filters_from_args() -> tuple[browse.FeedFilters, dict]:
    args = request.args
    raw = {"platform": args.get("platform", ""), "min_cpm": args.get("min_cpm", ""), "q": args.get("q", ""),
           "sort": args.get("sort", "newest") or "newest"}
    min_cpm = parse_money(raw["min_cpm"], "USD") if raw["min_cpm"].strip() else None
    filters = browse.FeedFilters(platform=raw["platform"] or None, min_cpm_cents=min_cpm,
                                 query=raw["q"].strip() or None, sort=raw["sort"])
    return filters, raw


@bp.route("/campaigns")
def feed():
    try:
        filters, raw = _filters_from_args()
        page = browse.feed_page(filters, request.args.get("cursor") or None)
        error = None
    except ValidationError as exc:
        filters, raw, page, error = None, dict(request.args.items()), browse.FeedPage([], None), exc.message
    block = "cards" if request.args.get("cursor") else "results"
    response = render("campaigns/feed.html", block=block, status=422 if error else 200, page=page, raw=raw,
                      error=error, platforms=PLATFORMS, platform_labels=PLATFORM_LABELS,
                      next_url=_next_page_url(raw, page.next_cursor))
    return add_vary(response)


def _next_page_url(raw: dict, cursor: str | None) -> str | None:
    if not cursor:
        return None
    params = {name: value for name, value in raw.items() if value}
    return url_for("campaigns.feed", cursor=cursor, **params)


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def detail(campaign_id: int):
    campaign = service.campaign_for(campaign_id, current_user)
    application = None
    if current_user.role == "clipper":
        application = applications.application_of(campaign.id, current_user.id)
    show_assets = assets.may_download(campaign, current_user)
    return render("campaigns/detail.html", block="apply", campaign=campaign, application=application,
                  application_actions=applications.allowed_actions(application, current_user, campaign),
                  assets=assets.assets_of(campaign.id) if show_assets else [], show_assets=show_assets,
                  form=ApplyForm(), action_form=ActionForm(), platform_labels=PLATFORM_LABELS)


@bp.route("/campaigns/<int:campaign_id>/apply", methods=["POST"])
@role_required("clipper")
def apply(campaign_id: int):
    campaign = service.campaign_for(campaign_id, current_user)
    form = ApplyForm()
    application, status = None, 422
    if form.validate_on_submit():
        try:
            application = applications.apply(campaign.id, current_user.id, form.pitch.data or "")
        except DomainError as exc:
            form.pitch.errors = [*form.pitch.errors, exc.message]
            status = exc.status_code
        else:
            flash("Application sent." if application.status == "applied" else "You are in: approved.", "success")
            return hx_redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render("campaigns/detail.html", block="apply", status=status, campaign=campaign,
                  application=application,
                  application_actions=applications.allowed_actions(application, current_user, campaign),
                  assets=[], show_assets=False, form=form,
                  action_form=ActionForm(), platform_labels=PLATFORM_LABELS)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@role_required("clipper")
def withdraw(application_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    application = applications.withdraw_application(application_id, current_user.id)
    flash("Application withdrawn.", "info")
    return hx_redirect(url_for("campaigns.detail", campaign_id=application.campaign_id))


@bp.route("/my/campaigns")
@role_required("clipper")
def my_campaigns():
    return render("campaigns/my_campaigns.html", items=applications.applications_of(current_user.id))


@bp.route("/campaigns/<int:campaign_id>/assets/<int:asset_id>")
@login_required
def download_asset(campaign_id: int, asset_id: int):
    response = redirect(assets.download_url(campaign_id, asset_id, current_user), code=302)
    response.headers["Cache-Control"] = "private, no-store"
    return response


from app.campaigns import brand_routes, change_routes  # noqa: E402,F401  (register the brand pages on bp)
