"""Forms of the account-security pages (CSRF from Flask-WTF; labels translatable)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.views.forms import REQUIRED


class NewPasswordMixin:
    """New password twice."""

    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password_confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("Passwords do not match."))],
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    """A user changes their own password."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED), Length(max=200)])
    logout_others = BooleanField(_l("Sign out of every other device and API token"), default=True)


class SetPasswordByOwnerForm(NewPasswordMixin, FlaskForm):
    """The owner sets a new password for an employee."""

    logout_others = BooleanField(_l("Sign the employee out everywhere"), default=True)


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    """New password through an e-mailed reset link."""


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset link."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])


class EnableTwoFactorForm(FlaskForm):
    """Confirm the authenticator app with its first code."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(REQUIRED), Length(max=20)])


class PasswordConfirmForm(FlaskForm):
    """An action that needs the current password (turn off 2FA, new recovery codes)."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class CompanySecurityForm(FlaskForm):
    """The owner's company-wide switches."""

    require_2fa = BooleanField(_l("Require two-step sign-in from everyone in the company"))


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET, no CSRF: it changes nothing)."""

    class Meta:
        """A GET filter form carries no CSRF token."""

        csrf = False

    user = SelectField(_l("Person"), choices=[], validators=[Optional()])
    event = SelectField(_l("Event"), choices=[], validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
