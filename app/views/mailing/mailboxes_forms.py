"""WTForms of the "Mailing" settings tab (values are checked by the service, one Polish message each)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import Length

from app.services.mailing.mailboxes import PRESETS, SECURITY_LABELS


class MailboxForm(FlaskForm):
    """"Dodaj nowy adres" and the edit form of a mailbox."""

    provider = SelectField(_l("Mail provider"), choices=[], validate_choice=False)
    email = StringField(_l("E-mail address"), validators=[Length(max=254)], render_kw={"autocomplete": "off"})
    sender_name = StringField(_l("Sender name"), validators=[Length(max=120)])
    smtp_host = StringField(_l("SMTP server"), validators=[Length(max=253)])
    smtp_port = StringField(_l("SMTP port"), validators=[Length(max=6)], render_kw={"inputmode": "numeric"})
    smtp_security = SelectField(_l("SMTP security"), choices=[], validate_choice=False, default="ssl")
    imap_host = StringField(_l("IMAP server"), validators=[Length(max=253)])
    imap_port = StringField(_l("IMAP port"), validators=[Length(max=6)], render_kw={"inputmode": "numeric"})
    imap_security = SelectField(_l("IMAP security"), choices=[], validate_choice=False, default="ssl")
    login = StringField(_l("User name (login)"), validators=[Length(max=254)], render_kw={"autocomplete": "off"})
    password = PasswordField(_l("Password"), validators=[Length(max=500)], render_kw={"autocomplete": "new-password"})
    rate_per_minute = StringField(_l("Messages per minute"), validators=[Length(max=6)], default="30",
                                  render_kw={"inputmode": "numeric"})
    daily_cap = StringField(_l("Messages per day"), validators=[Length(max=6)], default="500",
                            render_kw={"inputmode": "numeric"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider.choices = [("", str(_l("Other (enter the servers)")))] + [(k, p.label) for k, p in PRESETS.items()]
        security = [(k, str(v)) for k, v in SECURITY_LABELS.items()]
        self.smtp_security.choices = security
        self.imap_security.choices = security
