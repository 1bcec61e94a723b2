"""Campaign forms: shape and length at the edge; the rules live in ``rules``.

Invariant: every text field has a maximum length checked first (a 100 KB brief gets
a short message, not a slow parse); a form turns its text into the typed values the
service takes (``values()``: money as integer cents via ``parse_money``, dates as
aware UTC datetimes) and reports a bad amount on its own field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.campaigns import rules
from app.campaigns.models import PLATFORM_LABELS, PLATFORMS
from app.errors import ValidationError
from app.money import CURRENCIES, parse_money

# Longer than any valid value, so the rules give the real message; far shorter than an abuse.
_SLACK = 1000


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    """A campaign "ending on" a day runs to the end of that day (UTC)."""
    return start_of(day) + timedelta(days=1)


def last_day(ends_at: datetime | None) -> date | None:
    return (ends_at - timedelta(microseconds=1)).date() if ends_at else None


class BasicsForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired("Give the campaign a title."),
                                             Length(max=rules.MAX_TITLE_LENGTH + _SLACK)])
    brief = TextAreaField("Brief", validators=[Length(max=rules.MAX_BRIEF_LENGTH + _SLACK,
                                                      message="The brief is far too long.")])
    platforms = CheckboxList("Platforms", choices=[SelectChoice(p, PLATFORM_LABELS[p]) for p in PLATFORMS],
                             validate_choice=False)
    requirements = TextAreaField("Requirements (hashtags, mentions, disclosure)",
                                 validators=[Length(max=rules.MAX_REQUIREMENTS_LENGTH + _SLACK)])
    destination_url = StringField("Destination URL for a tracking link (optional)",
                                  validators=[Optional(), Length(max=rules.MAX_URL_LENGTH + _SLACK)])

    def values(self) -> dict:
        return {"title": self.title.data or "", "brief": self.brief.data or "",
                "platforms": list(self.platforms.data or []), "requirements": self.requirements.data or "",
                "destination_url": (self.destination_url.data or "").strip() or None}


class BudgetForm(FlaskForm):
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES], default="USD",
                           validate_choice=False)
    cpm = StringField("CPM (paid per 1,000 views)", validators=[InputRequired("Enter the CPM."), Length(max=40)])
    budget = StringField("Budget", validators=[InputRequired("Enter the budget."), Length(max=40)])
    min_views_per_post = IntegerField("Minimum views per post before it earns", default=0,
                                      validators=[Optional(), NumberRange(min=0)])
    max_payout_per_post = StringField("Maximum payout per post (optional)", validators=[Length(max=40)])
    max_earnings_per_clipper = StringField("Maximum earnings per clipper (optional)", validators=[Length(max=40)])
    max_participants = IntegerField("Maximum participants (optional)", validators=[Optional()])

    def _money(self, field, *, required: bool) -> int | None:
        text = (field.data or "").strip()
        if not text and not required:
            return None
        try:
            return parse_money(text, self.currency.data if self.currency.data in CURRENCIES else "USD",
                               allow_negative=True)
        except ValidationError as error:
            raise ValidationError(error.message, field=field.name) from None

    def values(self) -> dict:
        return {
            "currency": self.currency.data, "cpm_cents": self._money(self.cpm, required=True),
            "budget_cents": self._money(self.budget, required=True),
            "min_views_per_post": self.min_views_per_post.data or 0,
            "max_payout_per_post_cents": self._money(self.max_payout_per_post, required=False),
            "max_earnings_per_clipper_cents": self._money(self.max_earnings_per_clipper, required=False),
            "max_participants": self.max_participants.data,
        }


class ScheduleForm(FlaskForm):
    starts_on = DateField("Start date", validators=[InputRequired("Pick a start date.")])
    ends_on = DateField("End date", validators=[InputRequired("Pick an end date.")])
    hold_days = IntegerField("Hold window (days before earnings are payable)", default=3,
                             validators=[InputRequired()])
    auto_approve_hours = IntegerField("Content auto-approval window (hours)", default=48,
                                      validators=[InputRequired()])
    approval_mode = RadioField("Who joins", choices=[SelectChoice("manual", "I approve each clipper"),
                                                     SelectChoice("automatic", "Approve clippers automatically")],
                               default="manual", validate_choice=False)

    def values(self) -> dict:
        return {"starts_at": start_of(self.starts_on.data), "ends_at": end_of(self.ends_on.data),
                "hold_days": self.hold_days.data, "auto_approve_hours": self.auto_approve_hours.data,
                "approval_mode": self.approval_mode.data}


class LiveEditForm(FlaskForm):
    brief = TextAreaField("Brief", validators=[Length(max=rules.MAX_BRIEF_LENGTH + _SLACK)])
    ends_on = DateField("End date", validators=[InputRequired("Pick an end date.")])
    max_participants = IntegerField("Maximum participants", validators=[Optional()])


class ApplyForm(FlaskForm):
    pitch = TextAreaField("Your pitch", validators=[Length(max=2000, message="Keep the pitch under 1,000 characters.")])


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Length(max=3000)])


class FundingForm(FlaskForm):
    amount = StringField("Amount received", validators=[InputRequired("Enter the amount."), Length(max=40)])
    reference = StringField("Payment reference", validators=[InputRequired("Enter the reference."),
                                                             Length(max=100)])


class ActionForm(FlaskForm):
    """A button-only form (CSRF only)."""

    next = HiddenField()


class ChangeRequestForm(FlaskForm):
    """New CPM and/or budget for a live campaign (in the campaign's currency; blank keeps the term)."""

    cpm = StringField("New CPM (blank: keep)", validators=[Length(max=40)])
    budget = StringField("New budget (blank: keep)", validators=[Length(max=40)])
    reason = TextAreaField("Why (the reviewer sees it)", validators=[Length(max=3000)])

    def values(self, currency: str) -> dict:
        def money(field) -> int | None:
            text = (field.data or "").strip()
            if not text:
                return None
            try:
                return parse_money(text, currency, allow_negative=True)
            except ValidationError as error:
                raise ValidationError(error.message, field=f"{field.name}_cents") from None

        return {"cpm_cents": money(self.cpm), "budget_cents": money(self.budget), "reason": self.reason.data or ""}
