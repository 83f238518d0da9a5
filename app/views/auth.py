"""Public pages: sign-up ("Załóż konto") and accepting an invitation."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect
from flask_appbuilder import expose
from flask_babel import gettext

from app.extensions import appbuilder
from app.services import DomainError, tenancy
from app.services import employees as employees_svc
from app.views.base import CrmView, show_domain_error
from app.views.forms import SetPasswordForm, SignupForm


class SignupView(CrmView):
    """Create a company account with a 14-day free licence; the owner is signed in."""

    route_base = "/signup"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        """Show and handle the sign-up form."""
        if g.user is not None and g.user.is_authenticated:
            return redirect(appbuilder.get_url_for_index)
        form = SignupForm()
        if form.validate_on_submit():
            data = tenancy.SignupData(
                company_name=form.company_name.data,
                nip=form.nip.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                email=form.email.data,
                password=form.password.data,
            )
            try:
                owner = tenancy.register_company(data)
            except DomainError as err:
                show_domain_error(form, err)
            else:
                appbuilder.sm.login(owner)
                flash(
                    gettext(
                        "Welcome to Klientela! Your free licence is valid for %(days)s days.",
                        days=owner.company.licence_days_left(),
                    ),
                    "success",
                )
                return redirect(appbuilder.get_url_for_index)
        return self.render_template("crm/signup.html", form=form)


class InvitationView(CrmView):
    """An invited person sets a password through a signed, single-use link."""

    route_base = "/invitation"

    @expose("/<token>", methods=["GET", "POST"])
    def accept(self, token: str) -> Any:
        """Show the set-password form for a valid invitation."""
        try:
            user = employees_svc.user_from_invitation(token)
        except DomainError as err:
            flash(str(err), "danger")
            return redirect(appbuilder.get_url_for_login)
        form = SetPasswordForm()
        if form.validate_on_submit():
            try:
                employees_svc.accept_invitation(token, form.password.data)
            except DomainError as err:
                show_domain_error(form, err)
            else:
                flash(gettext("Your password is set. You can sign in now."), "success")
                return redirect(appbuilder.get_url_for_login)
        return self.render_template("crm/invitation.html", form=form, invited=user)


