"""Payout forms: shape and length at the edge; rules (status, eligibility) live in the service.

Invariant: every text field has a maximum length checked first, so an oversized
value gets a short message and changes nothing.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.accounts.forms import plain_text


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ManualMethodForm(FlaskForm):
    kind = RadioField("How should we pay you?", choices=[("paypal", "PayPal"), ("bank", "Bank transfer")],
                      validators=[DataRequired(message="Choose PayPal or bank transfer.")])
    paypal_email = EmailField("PayPal email", filters=[_strip], validators=[Optional(), Length(max=254),
                                                                           Email(message="Enter an email address.")])
    account_holder = StringField("Account holder", filters=[_strip], validators=[Length(max=120), plain_text])
    account_number = StringField("IBAN or account number", filters=[_strip], validators=[Length(max=40)])
    routing_number = StringField("Sort code / routing number (if your bank needs one)", filters=[_strip],
                                 validators=[Length(max=20)])


class MarkPaidForm(FlaskForm):
    reference = StringField("Payment reference", filters=[_strip],
                            validators=[DataRequired(message="Enter the reference of your transfer."),
                                        Length(max=120), plain_text])
    confirm = HiddenField()


class MarkFailedForm(FlaskForm):
    reason = StringField("Why it failed", filters=[_strip],
                         validators=[DataRequired(message="Say why, so the clipper can fix it."),
                                     Length(max=500), plain_text])


class PlaceHoldForm(FlaskForm):
    clipper = StringField("Clipper email or handle", filters=[_strip],
                          validators=[DataRequired(message="Enter the clipper's email or handle."),
                                      Length(max=254)])
    reason = TextAreaField("Reason", filters=[_strip],
                           validators=[DataRequired(message="Give a reason."), Length(max=500)])


class PlainActionForm(FlaskForm):
    """Only the CSRF token: run payouts now, release a hold, connect Stripe."""
