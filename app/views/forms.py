"""WTForms used by our views (labels translatable, CSRF from Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.security import roles

REQUIRED = _l("This field is required.")


class CheckedByService:
    """A field the service checks together with every other field (all refusals shown at once).

    It only marks the field (the red asterisk when ``required``); WTForms itself refuses nothing.
    """

    def __init__(self, required: bool = False, max_len: int | None = None) -> None:
        self.field_flags: dict[str, Any] = {"required": True} if required else {}
        if max_len:
            self.field_flags["maxlength"] = max_len  # the browser stops typing there; the service checks it too

    def __call__(self, form: Any, field: Any) -> None:
        """Nothing to check here."""


class SignupForm(FlaskForm):
    """Public "Załóż konto" form."""

    company_name = StringField(_l("Company name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    nip = StringField(_l("NIP"), validators=[DataRequired(REQUIRED), Length(max=20)])
    first_name = StringField(_l("First name"), validators=[DataRequired(REQUIRED), Length(max=64)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(REQUIRED), Length(max=64)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password_confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("Passwords do not match."))],
    )
    accept_terms = BooleanField(
        _l("I accept the terms of service and the data-processing agreement"),
        validators=[DataRequired(_l("Accept the terms of service and the data-processing agreement to create an account."))],
    )


class CompanyForm(FlaskForm):
    """"Dane firmy" settings tab."""

    name = StringField(_l("Company name"), validators=[CheckedByService(required=True)])
    nip = StringField(_l("NIP"), validators=[CheckedByService(required=True)])
    regon = StringField(_l("REGON"), validators=[CheckedByService(max_len=20)])
    street = StringField(_l("Street and number"), validators=[CheckedByService(max_len=200)])
    postal_code = StringField(_l("Postal code"), validators=[CheckedByService(max_len=10)])
    city = StringField(_l("City"), validators=[CheckedByService(max_len=100)])
    iban = StringField(_l("Bank account (IBAN)"), validators=[CheckedByService(max_len=50)])
    email = StringField(_l("E-mail"), validators=[CheckedByService(max_len=254)])
    phone = StringField(_l("Phone"), validators=[CheckedByService(max_len=30)])
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove logo"))


class AvatarForm(FlaskForm):
    """"Avatar" settings tab."""

    avatar = FileField(_l("Image"))
    remove = BooleanField(_l("Remove avatar"))


def role_choices() -> list[tuple[str, str]]:
    """Roles an owner can give, with Polish labels."""
    return [(r, str(roles.ROLE_LABELS[r])) for r in roles.COMPANY_ROLES]


class EmployeeForm(FlaskForm):
    """Add or edit a person of the company."""

    first_name = StringField(_l("First name"), validators=[CheckedByService(required=True)])
    last_name = StringField(_l("Last name"), validators=[CheckedByService(required=True)])
    email = EmailField(_l("E-mail"), validators=[CheckedByService(required=True)])
    phone = StringField(_l("Phone"), validators=[CheckedByService()])
    position = StringField(_l("Position"), validators=[CheckedByService()])
    role = SelectField(_l("Role"), choices=[], validators=[CheckedByService(required=True)], validate_choice=False)
    access = RadioField(
        _l("Access"),
        choices=[("password", _l("Set a password now")), ("invite", _l("Send an invitation link"))],
        default="password",
    )
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class SetPasswordForm(FlaskForm):
    """Invited person sets a password."""

    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password_confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("Passwords do not match."))],
    )


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
