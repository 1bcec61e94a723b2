"""Account forms: validation at the edge (shape, length, format); rules that
need the database (uniqueness, codes) live in the service.

Invariant: every text field has a maximum length checked before anything
else, so a 10 KB value gets a short message, not a slow parse or a 500.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, StopValidation

from app.accounts.countries import COUNTRY_CHOICES
from app.accounts.passwords import MAX_LENGTH, password_problem


def _strip(value):
    return value.strip() if isinstance(value, str) else value


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def plain_text(form, field):
    """No control or bidi-override characters (they disguise names in lists)."""
    if field.data and _CONTROL.search(field.data):
        raise StopValidation("Use letters, numbers and punctuation only.")


def email_address(form, field):
    value = field.data or ""
    try:
        # ASCII only: Flask-Mail/smtplib cannot send to an internationalised mailbox
        # (no SMTPUTF8), so such an account would never receive its code.
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise StopValidation(f"Enter a valid email address ({exc}).") from exc
    field.data = result.ascii_email.lower()  # an IDN domain in its ASCII (punycode) form, which SMTP can send to


def phone_number(region_field: str | None = None):
    """Parse to E.164; a national number needs the country (clippers pick one)."""

    def _check(form, field):
        if not field.data:
            return
        region = getattr(form, region_field).data if region_field else getattr(form, "default_region", None)
        try:
            number = phonenumbers.parse(field.data, region or None)
        except phonenumbers.NumberParseException as exc:
            raise StopValidation("Enter a phone number with its country code, like +14155550123.") from exc
        if not phonenumbers.is_valid_number(number):
            raise StopValidation("That phone number does not exist. Check the digits and the country code.")
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return _check


def new_password(form, field):
    email = getattr(getattr(form, "email", None), "data", None)
    problem = password_problem(field.data or "", email=email)
    if problem:
        raise StopValidation(problem)


def six_digit_code(form, field):
    if not re.fullmatch(r"[0-9]{6}", field.data or ""):
        raise StopValidation("Enter the 6-digit code.")


EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")


def _email_field(label="Email"):
    return EmailField(label, filters=[_strip], validators=[DataRequired(), Length(max=254), email_address])


def _password_field(label="Password"):
    return PasswordField(label, validators=[InputRequired(), Length(max=MAX_LENGTH), new_password])


def _code_field():
    return StringField("Code", filters=[_strip], validators=[DataRequired("Enter the 6-digit code."),
                                                             Length(max=12), six_digit_code])


HANDLE = Regexp(r"^[A-Za-z0-9_.]{2,30}$",
                message="2-30 letters, numbers, dots or underscores, as on your social profiles.")


class LoginForm(FlaskForm):
    # A shape check only: the account lookup is the real test, and an unknown email
    # and a wrong password must look the same.
    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Length(max=254), EMAIL_SHAPE])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField(validators=[Length(max=2048)])


class ClipperSignupForm(FlaskForm):
    display_name = StringField("Your name", filters=[_strip],
                               validators=[DataRequired(), Length(max=80), plain_text])
    handle = StringField("Social handle", filters=[_strip, lambda v: v.lstrip("@") if v else v],
                         validators=[DataRequired(), Length(max=30), HANDLE])
    country = SelectField("Country", choices=[SelectChoice("", "Choose your country"),
                                              *(SelectChoice(code, name) for code, name in COUNTRY_CHOICES)],
                          validators=[DataRequired("Choose your country.")], validate_choice=True)
    email = _email_field()
    phone = TelField("Mobile number (optional)", filters=[_strip],
                     validators=[Optional(), Length(max=32), phone_number("country")])
    channel = RadioField("Send my code by",
                         choices=[SelectChoice("email", "Email"), SelectChoice("sms", "Text message")],
                         default="email", validators=[InputRequired()])
    password = _password_field()

    def validate_channel(self, field):
        if field.data == "sms" and not self.phone.data:
            raise StopValidation("Add your mobile number to get the code by text message.")


class BrandSignupForm(FlaskForm):
    company_name = StringField("Company", filters=[_strip],
                               validators=[DataRequired(), Length(max=120), plain_text])
    display_name = StringField("Your name", filters=[_strip],
                               validators=[DataRequired(), Length(max=80), plain_text])
    email = _email_field("Work email")
    password = _password_field()


class VerifyForm(FlaskForm):
    code = _code_field()


class ForgotPasswordForm(FlaskForm):
    # Shape only, as at sign-in: the account lookup is the real test.
    email = EmailField("Email", filters=[_strip, lambda v: v.lower() if v else v],
                       validators=[DataRequired(), Length(max=254), EMAIL_SHAPE])


class ResetPasswordForm(FlaskForm):
    email = HiddenField(validators=[DataRequired(), Length(max=254)])
    code = _code_field()
    password = _password_field("New password")


class TotpForm(FlaskForm):
    code = _code_field()


class DisplayNameForm(FlaskForm):
    display_name = StringField("Display name", filters=[_strip],
                               validators=[DataRequired(), Length(max=80), plain_text])


class ChangeEmailForm(FlaskForm):
    email = _email_field("New email")


class ChangePhoneForm(FlaskForm):
    default_region: str | None = None  # the user's country, for numbers typed without +
    phone = TelField("New mobile number", filters=[_strip],
                     validators=[DataRequired(), Length(max=32), phone_number()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired(), Length(max=MAX_LENGTH)])
    password = _password_field("New password")


class ConfirmChangeForm(FlaskForm):
    code = _code_field()
