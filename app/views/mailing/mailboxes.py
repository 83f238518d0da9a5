"""Settings tab "Mailing" (owner and managers): the company's mailboxes, their form and verification."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, g, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.models.mailing import Mailbox
from app.services.mailing import mailboxes as svc
from app.services.mailing import verification
from app.views.base import CrmView, current_company_id, form_action, found, post_action
from app.views.forms import ConfirmForm
from app.views.mailing.mailboxes_forms import MailboxForm


def _data(form: MailboxForm) -> svc.MailboxData:
    return svc.MailboxData(**{name: getattr(form, name).data for name in (
        "email", "sender_name", "smtp_host", "smtp_port", "smtp_security", "imap_host", "imap_port",
        "imap_security", "login", "password", "rate_per_minute", "daily_cap")})


def _presets() -> dict[str, dict[str, Any]]:
    """The provider presets as the form's script reads them."""
    return {key: {"smtp_host": p.smtp_host, "smtp_port": p.smtp_port, "smtp_security": p.smtp_security,
                  "imap_host": p.imap_host, "imap_port": p.imap_port, "imap_security": p.imap_security,
                  "note": str(p.note or "")} for key, p in svc.PRESETS.items()}


class MailboxesView(CrmView):
    """The list with each mailbox's state, "Dodaj nowy adres", edit, delete, the yellow triangle."""

    route_base = "/settings/mailing"
    crm_section = "settings"
    class_permission_name = "Mailboxes"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "add": "add", "edit": "edit", "delete": "delete",
        "verify": "verify", "verification": "verify", "progress": "verify",
    }

    def _mailbox(self, mailbox_id: int) -> Mailbox:
        return found(svc.get_mailbox(current_company_id(), mailbox_id))

    def _form_page(self, form: MailboxForm, box: Mailbox | None) -> ResponseReturnValue:
        form.password.data = ""  # a password is never sent back to the browser
        return self.render_template("mailing/mailbox_form.html", form=form, box=box, presets=_presets(),
                                    preset_notes=[(p.label, p.note) for p in svc.PRESETS.values() if p.note])

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's mailboxes with their state; inactive ones carry the yellow triangle."""
        boxes = svc.list_mailboxes(current_company_id())
        return self.render_template("mailing/mailboxes.html", boxes=boxes, state_labels=svc.STATE_LABELS,
                                    security_labels=svc.SECURITY_LABELS, failure_message=svc.failure_message,
                                    running=verification.is_running, button_form=ConfirmForm())

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Dodaj nowy adres": the new mailbox is saved inactive."""
        form = MailboxForm()
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_mailbox(current_company_id(), g.user, _data(form)),
                               gettext("Mailbox saved. It is inactive: click the yellow triangle to verify it."))
            if done.ok:
                return redirect(url_for(".index"))
        return self._form_page(form, None)

    @expose("/<int:mailbox_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, mailbox_id: int) -> ResponseReturnValue:
        """Edit a mailbox; an empty password keeps the saved one."""
        box = self._mailbox(mailbox_id)
        form = MailboxForm(data=svc.form_values(box))
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.update_mailbox(current_company_id(), g.user, box.id, _data(form)),
                               gettext("Mailbox saved."))
            if done.ok:
                return redirect(url_for(".index"))
        return self._form_page(form, box)

    @expose("/<int:mailbox_id>/delete", methods=["POST"])
    @has_access
    def delete(self, mailbox_id: int) -> ResponseReturnValue:
        """Move a mailbox to the trash."""
        box = self._mailbox(mailbox_id)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        post_action(lambda: svc.delete_mailbox(current_company_id(), g.user, box.id),
                    gettext("The mailbox %(email)s was moved to the trash.", email=box.email))
        return redirect(url_for(".index"))

    @expose("/<int:mailbox_id>/verify", methods=["POST"])
    @has_access
    def verify(self, mailbox_id: int) -> ResponseReturnValue:
        """The yellow triangle: start the verification and show its progress."""
        box = self._mailbox(mailbox_id)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        post_action(lambda: verification.verify(current_company_id(), g.user, box.id))
        return redirect(url_for(".verification", mailbox_id=box.id))

    @expose("/<int:mailbox_id>/verification")
    @has_access
    def verification(self, mailbox_id: int) -> ResponseReturnValue:
        """The progress of the mailbox's verification (the page polls ``progress``)."""
        box = self._mailbox(mailbox_id)
        return self.render_template("mailing/mailbox_verify.html", box=box, progress=verification.progress(box),
                                    error_message=svc.failure_message(box),
                                    button_form=ConfirmForm())

    @expose("/<int:mailbox_id>/progress")
    @has_access
    def progress(self, mailbox_id: int) -> ResponseReturnValue:
        """The verification's progress as JSON."""
        box = self._mailbox(mailbox_id)
        return jsonify(state=box.state, **verification.progress(box),
                       error=svc.failure_message(box) or None)
