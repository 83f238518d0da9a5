"""WTForms of client bases, contacts and tags (labels translatable, CSRF from Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.services.contacts.bases import BASE_KIND_LABELS, NAME_MAX
from app.views.forms import REQUIRED


class BaseForm(FlaskForm):
    """"Dodaj nową bazę": name and kind."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=NAME_MAX)])
    kind = RadioField(
        _l("Kind"),
        choices=[(k, label) for k, label in BASE_KIND_LABELS.items()],
        default="contacts",
        validators=[DataRequired(REQUIRED)],
    )


class RenameBaseForm(FlaskForm):
    """Rename a base."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=NAME_MAX)])


class ContactForm(FlaskForm):
    """A company or a person; the view shows the fields of the chosen kind.

    Lengths are checked by the service so that every refusal has one Polish message.
    """

    name = StringField(_l("Company name"), validators=[Optional()])
    first_name = StringField(_l("First name"), validators=[Optional()])
    last_name = StringField(_l("Last name"), validators=[Optional()])
    position = StringField(_l("Position"), validators=[Optional()])
    employer_id = StringField(_l("Works for (company)"), validators=[Optional()])  # an id, from the picker
    nip = StringField(_l("NIP"), validators=[Optional()])
    regon = StringField(_l("REGON"), validators=[Optional()])
    krs = StringField(_l("KRS"), validators=[Optional()])
    pesel = StringField(_l("PESEL"), validators=[Optional()])
    street = StringField(_l("Street and number"), validators=[Optional()])
    postal_code = StringField(_l("Postal code"), validators=[Optional()])
    city = StringField(_l("City"), validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional()])
    website = StringField(_l("Website"), validators=[Optional()])
    owner_id = SelectField(_l("Account manager"), choices=[], validators=[Optional()], validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional()])
    consent_given_at = StringField(_l("Consent given on"), validators=[Optional()], render_kw={"type": "date"})
    consent_source = StringField(_l("How the consent was given"), validators=[Optional()])
    consent_text = TextAreaField(_l("Consent text"), validators=[Optional()])
