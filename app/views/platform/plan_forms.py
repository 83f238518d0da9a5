"""Forms of plans, licences and the legal documents (the platform admin's and the owner's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.validators import Optional as OptionalValue

from app.views.forms import REQUIRED


class PlanForm(FlaskForm):
    """A plan's name, price and limits (values are checked by the service, all at once)."""

    name = StringField(_l("Plan name"), validators=[DataRequired(REQUIRED), Length(max=60)])
    price_gross = StringField(_l("Price a month, gross (zł)"), validators=[DataRequired(REQUIRED), Length(max=20)])
    max_employees = StringField(_l("Employees (at most)"), validators=[DataRequired(REQUIRED), Length(max=12)])
    max_mailboxes = StringField(_l("Mailing accounts (at most)"), validators=[DataRequired(REQUIRED), Length(max=12)])
    max_emails_month = StringField(_l("E-mails a month (at most)"), validators=[DataRequired(REQUIRED), Length(max=12)])
    max_storage_mb = StringField(_l("File storage (MB)"), validators=[DataRequired(REQUIRED), Length(max=12)])
    sort_order = StringField(_l("Order on the price list"), validators=[DataRequired(REQUIRED), Length(max=12)])
    active = BooleanField(_l("On sale"))


class LicenceChangeForm(FlaskForm):
    """The platform admin sets a licence's last day by hand, with a reason."""

    valid_until = DateField(_l("New last day of the licence"), validators=[OptionalValue()],
                            format="%Y-%m-%d")
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[Length(max=200)])


class LegalDraftForm(FlaskForm):
    """The text of the next version of the terms or the data-processing agreement."""

    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(REQUIRED)])


class TermsAcceptForm(FlaskForm):
    """The owner accepts the new versions."""

    documents = HiddenField()
    accept = BooleanField(
        _l("I have read and accept the documents above on behalf of the company"),
        validators=[DataRequired(_l("Tick the box to accept the documents."))],
    )
    next = HiddenField()
