"""Section "Emailing": campaign list, "Nowa kampania", the campaign page; public unsubscribe page and images.

The campaign page shows who gets the campaign and who is left out, the test message, sending now or
at a set time, pause and resume, the live progress and the report.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField

from app.services import DomainError
from app.services.mailing import campaigns as svc
from app.services.mailing import editor
from app.services.mailing import unsubscribe as unsub
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found, post_action
from app.views.forms import ConfirmForm
from app.views.work.tasks import CheckedByService


class CampaignForm(FlaskForm):
    """"Nowa kampania" and its edit: bases, tags, mailbox, subject and the editor's HTML."""

    base_ids = SelectMultipleField(_l("Mailing bases"), coerce=int, validate_choice=False,
                                   validators=[CheckedByService(required=True)])
    tag_ids = SelectMultipleField(_l("Tags (optional)"), coerce=int, validate_choice=False)
    mailbox_id = SelectField(_l("Send from mailbox"), coerce=int, validate_choice=False,
                             validators=[CheckedByService(required=True)])
    subject = StringField(_l("Subject"), validators=[CheckedByService(required=True)])
    body_html = HiddenField(_l("Message"))


class SendForm(FlaskForm):
    """Send now, or at a typed local time."""

    send_at = StringField(_l("Send at (Polish time)"))


class ImageForm(FlaskForm):
    """An image uploaded from the editor's toolbar."""

    file = FileField(_l("Image"))


def _ints(values: Any) -> list[int]:
    return [int(v) for v in values or [] if isinstance(v, int) and v > 0]


def _fill_choices(form: CampaignForm, company_id: int) -> None:
    form.base_ids.choices = [(b.id, b.name) for b in svc.mailing_bases(company_id)]
    form.tag_ids.choices = [(t.id, t.name) for t in svc.tags(company_id)]
    form.mailbox_id.choices = [(0, gettext("— choose —"))] + [
        (m.id, m.from_header) for m in svc.active_mailboxes(company_id)]


def _data(form: CampaignForm) -> svc.CampaignData:
    return svc.CampaignData(
        subject=form.subject.data, body_html=form.body_html.data, base_ids=_ints(form.base_ids.data),
        tag_ids=_ints(form.tag_ids.data), mailbox_id=form.mailbox_id.data or None)


class CampaignsView(CrmView):
    """The pink "Emailing" section."""

    route_base = "/emailing"
    crm_section = "emailing"
    class_permission_name = "Campaigns"
    method_permission_name = {
        "index": "list", "show": "show", "progress": "show", "add": "add", "edit": "edit", "image": "edit",
        "send": "edit", "send_test": "edit", "pause": "edit", "resume": "edit", "cancel": "edit", "delete": "delete",
    }

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's campaigns with their state."""
        company_id = current_company_id()
        rows = svc.list_campaigns(company_id)
        return self.render_template("mailing/campaigns.html", rows=rows, labels=svc.CAMPAIGN_STATUS_LABELS,
                                    has_mailbox=bool(svc.active_mailboxes(company_id)))

    def _form_page(self, form: CampaignForm, campaign: Any) -> ResponseReturnValue:
        # the editor shows the HTML as a page element: only ever the allow-listed HTML, also after a refusal
        form.body_html.data = editor.sanitize(form.body_html.data)
        return self.render_template("mailing/campaign_form.html", form=form, campaign=campaign,
                                    fields=editor.PERSONAL_FIELDS)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Nowa kampania": saved as a draft, then the campaign page shows who gets it."""
        company_id = current_company_id()
        form = CampaignForm()
        _fill_choices(form, company_id)
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.save_campaign(company_id, g.user, None, _data(form)),
                               gettext("The campaign is saved as a draft."))
            if done.ok:
                return redirect(url_for(".show", campaign_id=done.result.id))
        return self._form_page(form, None)

    @expose("/<int:campaign_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, campaign_id: int) -> ResponseReturnValue:
        """Change a draft (a scheduled campaign goes back to draft)."""
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        form = CampaignForm(obj=campaign)
        _fill_choices(form, company_id)
        if request.method == "GET":
            form.base_ids.data = [b.id for b in campaign.bases]
            form.tag_ids.data = [t.id for t in campaign.tags]
            form.mailbox_id.data = campaign.mailbox_id or 0
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.save_campaign(company_id, g.user, campaign.id, _data(form)),
                               gettext("Changes saved."))
            if done.ok:
                return redirect(url_for(".show", campaign_id=campaign.id))
        return self._form_page(form, campaign)

    @expose("/<int:campaign_id>")
    @has_access
    def show(self, campaign_id: int) -> ResponseReturnValue:
        """The campaign: who gets it and who is left out, actions, progress, report, recipients."""
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        status = request.args.get("status")
        report = svc.report(company_id, campaign)
        return self.render_template(
            "mailing/campaign_show.html", campaign=campaign, audience=svc.campaign_audience(company_id, campaign),
            progress=svc.progress(company_id, campaign.id), report=report,
            report_rows=[asdict(r) for r in [report.total, *report.bases, *report.tags]],
            recipients=svc.recipients(company_id, campaign.id, status), status_filter=status,
            labels=svc.CAMPAIGN_STATUS_LABELS, recipient_labels=svc.RECIPIENT_STATUS_LABELS,
            send_form=SendForm(), confirm=ConfirmForm())

    @expose("/<int:campaign_id>/progress")
    @has_access
    def progress(self, campaign_id: int) -> ResponseReturnValue:
        """The progress bar's JSON (polled while the campaign is being sent)."""
        return jsonify(found(svc.progress(current_company_id(), campaign_id)))

    @expose("/<int:campaign_id>/send", methods=["POST"])
    @has_access
    def send(self, campaign_id: int) -> ResponseReturnValue:
        """Send now, or at the typed time."""
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        form = SendForm()
        if form.validate_on_submit():
            link = url_for("UnsubscribeView.page", token="TOKEN", _external=True).replace("TOKEN", "{token}")

            def schedule() -> Any:
                return svc.schedule(company_id, campaign.id, svc.parse_send_at(form.send_at.data), link)

            post_action(schedule, gettext("The campaign is scheduled for sending."))
        return redirect(url_for(".show", campaign_id=campaign.id))

    @expose("/<int:campaign_id>/test", methods=["POST"])
    @has_access
    def send_test(self, campaign_id: int) -> ResponseReturnValue:
        """"Wyślij test do mnie": one message to the signed-in user's address."""
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        if ConfirmForm().validate_on_submit():
            to = g.user.email
            post_action(lambda: svc.send_test(company_id, campaign.id, to),
                        gettext("A test message has been sent to %(email)s.", email=to))
        return redirect(url_for(".show", campaign_id=campaign.id))

    def _button(self, campaign_id: int, action: Any, message: Any) -> ResponseReturnValue:
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        if ConfirmForm().validate_on_submit():
            post_action(lambda: action(company_id, campaign.id), message)
        return redirect(url_for(".show", campaign_id=campaign.id))

    @expose("/<int:campaign_id>/pause", methods=["POST"])
    @has_access
    def pause(self, campaign_id: int) -> ResponseReturnValue:
        """Pause sending."""
        return self._button(campaign_id, svc.pause, gettext("Sending is paused."))

    @expose("/<int:campaign_id>/resume", methods=["POST"])
    @has_access
    def resume(self, campaign_id: int) -> ResponseReturnValue:
        """Resume sending."""
        return self._button(campaign_id, svc.resume, gettext("Sending is resumed."))

    @expose("/<int:campaign_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, campaign_id: int) -> ResponseReturnValue:
        """Cancel a scheduled or paused campaign."""
        return self._button(campaign_id, svc.cancel, gettext("The campaign is cancelled."))

    @expose("/<int:campaign_id>/delete", methods=["POST"])
    @has_access
    def delete(self, campaign_id: int) -> ResponseReturnValue:
        """Move a draft to the trash."""
        company_id = current_company_id()
        campaign = found(svc.get_campaign(company_id, campaign_id))
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: svc.delete_draft(company_id, g.user, campaign.id),
                               gettext("The draft is in the trash."))
            if done.ok:
                return redirect(url_for(".index"))
        return redirect(url_for(".show", campaign_id=campaign.id))

    @expose("/image", methods=["POST"])
    @has_access
    def image(self) -> ResponseReturnValue:
        """The editor's image upload: JSON with the image's public address, or the Polish refusal."""
        company_id = current_company_id()
        form = ImageForm()
        if not form.validate_on_submit():
            return jsonify({"error": gettext("The form has expired: reload the page.")}), 400
        try:
            image = svc.upload_image(company_id, file_bytes(form.file))
        except DomainError as err:
            return jsonify({"error": str(err)}), 400
        return jsonify({"url": url_for("UnsubscribeView.image", token=image.token, _external=True)})


class UnsubscribeView(CrmView):
    """Public pages of campaign messages: one-click unsubscribe (RFC 8058) and uploaded images. No login."""

    route_base = "/m"
    crm_section = "emailing"

    @expose("/u/<token>", methods=["GET"])
    def page(self, token: str) -> ResponseReturnValue:
        """The unsubscribe page: the address and one button."""
        found_sub = unsub.lookup(token)
        if found_sub is None:
            return self.render_template("mailing/campaign_unsubscribe.html", error=gettext(
                "This unsubscribe link is not valid."), sub=None, done=False), 404
        return self.render_template("mailing/campaign_unsubscribe.html", error=None, sub=found_sub,
                                    done=found_sub.unsubscribed, token=token)

    @expose("/u/<token>", methods=["POST"])
    def confirm(self, token: str) -> ResponseReturnValue:
        """Unsubscribe: the page's button or a mail client's one-click POST (the signed token is the proof)."""
        try:
            sub = unsub.unsubscribe(token)
        except DomainError as err:
            return self.render_template("mailing/campaign_unsubscribe.html", error=str(err), sub=None,
                                        done=False), 404
        return self.render_template("mailing/campaign_unsubscribe.html", error=None, sub=sub, done=True,
                                    token=token)

    @expose("/i/<token>")
    def image(self, token: str) -> ResponseReturnValue:
        """An image uploaded in the campaign editor (mail clients load it without a login)."""
        img = found(svc.public_image(token))
        resp = Response(img.data, mimetype=img.mime)
        resp.headers["Cache-Control"] = "public, max-age=86400"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

