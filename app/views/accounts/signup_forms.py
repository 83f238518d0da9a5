"""Forms of the sign-up confirmation and the NIP claim (public side and the platform admin's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.views.forms import REQUIRED


class ResendForm(FlaskForm):
    """"Send the link again" on the check-your-mailbox page."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])


class NipClaimForm(FlaskForm):
    """Public "Ta firma ma już konto? Zgłoś to" form."""

    nip = StringField(_l("NIP"), validators=[DataRequired(REQUIRED), Length(max=20)])
    company_name = StringField(_l("Company name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    first_name = StringField(_l("First name"), validators=[DataRequired(REQUIRED), Length(max=64)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(REQUIRED), Length(max=64)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[DataRequired(REQUIRED), Length(max=30)])
    explanation = TextAreaField(
        _l("Why is this NIP yours?"), validators=[DataRequired(REQUIRED), Length(max=2000)]
    )


class ClaimApproveForm(FlaskForm):
    """The platform admin approves a claim after checking it."""

    checked = BooleanField(
        _l("I have checked that the claimant owns this NIP"), validators=[DataRequired(REQUIRED)]
    )
    note = TextAreaField(_l("What did you check?"), validators=[DataRequired(REQUIRED), Length(max=2000)])


class ClaimRejectForm(FlaskForm):
    """The platform admin rejects a claim with a reason."""

    reason = TextAreaField(_l("Reason (the claimant will read it)"), validators=[DataRequired(REQUIRED), Length(max=2000)])
