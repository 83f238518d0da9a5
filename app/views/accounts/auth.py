"""Public pages: sign-up ("Załóż konto") with its confirmation and NIP claim, accepting an invitation."""

from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose
from flask_babel import gettext

from app.extensions import appbuilder
from app.security import web_session
from app.services import DomainError
from app.services.accounts import companies as tenancy
from app.services.accounts import employees as employees_svc
from app.services.accounts import nip_claims, signups
from app.services.platform import legal
from app.views.accounts.links import admin_claim_link, claim_confirm_link, signup_confirm_link
from app.views.accounts.signup_forms import NipClaimForm, ResendForm
from app.views.base import CrmView, form_action, post_action, show_domain_error
from app.views.forms import SetPasswordForm, SignupForm


class SignupView(CrmView):
    """Create a company account; it works once the owner confirms the e-mail address by a link.

    Also the public side of a NIP claim ("Ta firma ma już konto? Zgłoś to"). Every POST here is
    rate-limited per IP (SIGNUP_RATE_LIMIT, see app/views/__init__.py).
    """

    route_base = "/signup"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> ResponseReturnValue:
        """Show and handle the sign-up form; on success ask the owner to check the mailbox."""
        if g.user is not None and g.user.is_authenticated:
            return redirect(appbuilder.get_url_for_index)
        form = SignupForm()
        claim_nip = None
        if form.validate_on_submit():
            data = tenancy.SignupData(
                company_name=form.company_name.data,
                nip=form.nip.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                email=form.email.data,
                password=form.password.data,
                # the versions in force are the ones this page links to
                accepted_documents=tuple(d.id for d in legal.current_documents()) if form.accept_terms.data else (),
                ip=request.remote_addr,
            )
            try:  # not form_action: a taken NIP also makes the page offer a claim of that NIP
                owner = signups.sign_up(data, signup_confirm_link)
            except tenancy.NipTaken as err:
                show_domain_error(form, err)
                claim_nip = err.nip
            except DomainError as err:
                show_domain_error(form, err)
            else:
                session[web_session.SIGNUP_EMAIL_KEY] = owner.email
                return redirect(url_for(".sent"))
        return self.render_template("crm/signup.html", form=form, claim_nip=claim_nip)

    @expose("/sent/", methods=["GET", "POST"])
    def sent(self) -> ResponseReturnValue:
        """"Check your mailbox", with a form that sends the confirmation link again."""
        form = ResendForm()
        if request.method == "GET":
            form.email.data = session.get(web_session.SIGNUP_EMAIL_KEY)
        if form.validate_on_submit():
            if form_action(None, lambda: signups.resend(form.email.data, signup_confirm_link)).ok:
                session[web_session.SIGNUP_EMAIL_KEY] = form.email.data.strip()
                flash(gettext("If a sign-up waits for confirmation at this address, we have sent the link again."),
                      "info")
                return redirect(url_for(".sent"))
        return self.render_template("crm/signup_sent.html", form=form, hours=signups.confirm_hours())

    @expose("/confirm/<token>")
    def confirm(self, token: str) -> ResponseReturnValue:
        """The e-mailed link: confirm the account, start the trial and sign the owner in."""
        done = post_action(lambda: signups.confirm(token))  # a link that does not work says why
        owner = done.value
        if owner is None:
            return redirect(appbuilder.get_url_for_login)
        session.pop(web_session.SIGNUP_EMAIL_KEY, None)
        web_session.sign_in(owner)
        company = owner.company
        flash(
            gettext(
                "Your e-mail address is confirmed. Welcome to Klientela! Your free licence is valid for %(days)s days.",
                days=company.licence_days_left() if company is not None else 0,
            ),
            "success",
        )
        return redirect(appbuilder.get_url_for_index)

    @expose("/claim/", methods=["GET", "POST"])
    def claim(self) -> ResponseReturnValue:
        """"Ta firma ma już konto? Zgłoś to": the real company claims its NIP."""
        form = NipClaimForm()
        if request.method == "GET" and request.args.get("nip"):
            form.nip.data = request.args.get("nip", "")[:20]
        if form.validate_on_submit():
            data = nip_claims.ClaimData(
                nip=form.nip.data, company_name=form.company_name.data, first_name=form.first_name.data,
                last_name=form.last_name.data, email=form.email.data, phone=form.phone.data,
                explanation=form.explanation.data,
            )
            if form_action(form, lambda: nip_claims.submit(data, claim_confirm_link)).ok:
                return redirect(url_for(".claim_sent"))
        return self.render_template("crm/nip_claim.html", form=form)

    @expose("/claim/sent/")
    def claim_sent(self) -> ResponseReturnValue:
        """After a claim: confirm the e-mail address by the link."""
        return self.render_template(
            "crm/signup_message.html", title=gettext("Check your mailbox"),
            text=gettext("We have sent you a link. Click it within %(hours)s hours to confirm your e-mail address; "
                         "then the administrator checks your claim and answers by e-mail.",
                         hours=signups.confirm_hours()),
        )

    @expose("/claim/confirm/<token>")
    def claim_confirm(self, token: str) -> ResponseReturnValue:
        """The e-mailed link of a claim: the claim goes to the platform admin."""
        if not post_action(lambda: nip_claims.confirm(token, admin_claim_link)).ok:
            return redirect(url_for(".claim"))
        return self.render_template(
            "crm/signup_message.html", title=gettext("Claim received"),
            text=gettext("Your e-mail address is confirmed. The administrator will check your claim and answer "
                         "by e-mail."),
        )


class InvitationView(CrmView):
    """An invited person sets a password through a signed, single-use link."""

    route_base = "/invitation"

    @expose("/<token>", methods=["GET", "POST"])
    def accept(self, token: str) -> ResponseReturnValue:
        """Show the set-password form for a valid invitation."""
        user = post_action(lambda: employees_svc.user_from_invitation(token)).value
        if user is None:  # the reason (expired, used, forged) was flashed
            return redirect(appbuilder.get_url_for_login)
        form = SetPasswordForm()
        if form.validate_on_submit():
            done = form_action(
                form, lambda: employees_svc.accept_invitation(token, form.password.data),
                gettext("Your password is set. You can sign in now."),
            )
            if done.ok:
                return redirect(appbuilder.get_url_for_login)
        return self.render_template("crm/invitation.html", form=form, invited=user)
