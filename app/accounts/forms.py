"""Account forms (validation at the edge; rules live in the service)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp


def _strip(value):
    return value.strip() if isinstance(value, str) else value


# A shape check only (the account lookup is the real test); WTForms' Email()
# needs the optional email_validator package, which is not a dependency.
EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Length(max=254), EMAIL_SHAPE])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
