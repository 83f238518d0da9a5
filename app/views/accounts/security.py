"""Account security pages: own password and two-step sign-in, log out everywhere, the owner's
"Bezpieczeństwo" settings tab (company 2FA switch, audit log), password reset by e-mail,
the password strength check of the forms and the small token API (/api/v1/auth/token, /api/v1/me).
"""

from __future__ import annotations

from typing import ClassVar

from flask import (
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_appbuilder.api import BaseApi
from flask_appbuilder.security.decorators import protect
from flask_babel import gettext
from flask_login import logout_user

from app.extensions import appbuilder
from app.models.users import CrmUser
from app.security import web_session
from app.services import DomainError
from app.services.accounts import audit, lockout, password_change, password_reset, sessions, signin, two_factor
from app.services.accounts import employees as employees_svc
from app.services.accounts.passwords import check_password, strength_score, user_inputs
from app.services.accounts.security_policy import company_requires_2fa, set_company_2fa
from app.views.accounts.employees import employee_or_404
from app.views.accounts.links import reset_link
from app.views.accounts.security_forms import (
    AuditFilterForm,
    ChangePasswordForm,
    CompanySecurityForm,
    EnableTwoFactorForm,
    ForgotPasswordForm,
    PasswordConfirmForm,
    ResetPasswordForm,
    SetPasswordByOwnerForm,
)
from app.views.base import CrmView, current_company_id, form_action, found, id_arg, post_action
from app.views.forms import ConfirmForm

SETUP_KEY = "crm_2fa_setup"


def _signed_out_everywhere() -> ResponseReturnValue:
    logout_user()
    flash(gettext("You have been signed out on every device. Please sign in again."), "info")
    return redirect(appbuilder.get_url_for_login)


def _setup_secret() -> str:
    """The TOTP secret being set up, kept encrypted in the session until the first code is right."""
    stored = session.get(SETUP_KEY)
    if stored:
        try:
            return two_factor.decrypt(stored)
        except DomainError:
            pass  # a secret of another key: start over
    secret = two_factor.new_totp_secret()
    session[SETUP_KEY] = two_factor.encrypt(secret)
    return secret


class AccountSecurityView(CrmView):
    """The signed-in user's own password, two-step sign-in and "log out everywhere"."""

    route_base = "/profile/security"
    crm_section = "settings"
    class_permission_name = "AccountSecurity"
    method_permission_name: ClassVar[dict[str, str]] = {
        "password": "edit",
        "logout_everywhere": "edit",
        "end_session": "edit",
        "two_factor": "edit",
        "disable_two_factor": "edit",
        "recovery_codes": "edit",
    }

    @expose("/password", methods=["GET", "POST"])
    @has_access
    def password(self) -> ResponseReturnValue:
        """Change the own password; by default every other device is signed out."""
        form = ChangePasswordForm()
        if request.method == "GET":
            form.logout_others.data = True
        if form.validate_on_submit():
            done = form_action(
                form,
                lambda: password_change.change_password(
                    g.user, g.user, form.password.data, form.current_password.data,
                    logout_others=bool(form.logout_others.data), keep_session=web_session.current_session_id(),
                ),
                gettext("Your password has been changed."),
            )
            if done.ok:
                return redirect(url_for("ProfileView.index"))
        return self.render_template("security/password.html", form=form, employee=g.user, own=True)

    @expose("/logout-everywhere", methods=["POST"])
    @has_access
    def logout_everywhere(self) -> ResponseReturnValue:
        """End every session and API token of the signed-in user, this one included."""
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("ProfileView.index"))
        sessions.logout_everywhere(g.user, g.user)
        return _signed_out_everywhere()

    @expose("/sessions/<int:session_id>/end", methods=["POST"])
    @has_access
    def end_session(self, session_id: int) -> ResponseReturnValue:
        """End one of the user's own sessions ("Wyloguj" in the list); 404 for anyone else's."""
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("ProfileView.index"))
        if found(sessions.end(g.user, session_id, web_session.current_session_id())):
            logout_user()
            flash(gettext("You have been signed out."), "info")
            return redirect(appbuilder.get_url_for_login)
        flash(gettext("The session has been ended; that device is signed out."), "success")
        return redirect(url_for("ProfileView.index") + "#active-sessions")

    @expose("/two-factor", methods=["GET", "POST"])
    @has_access
    def two_factor(self) -> ResponseReturnValue:
        """Turn on two-step sign-in (QR code, first code) or manage it when it is on."""
        user = g.user
        if user.two_factor_enabled:
            return self.render_template(
                "security/two_factor.html", user=user, enabled=True, form=PasswordConfirmForm(),
                codes_left=two_factor.recovery_codes_left(user), required=company_requires_2fa(user.company_id),
            )
        form = EnableTwoFactorForm()
        secret = _setup_secret()
        if form.validate_on_submit():
            done = form_action(
                form,
                lambda: two_factor.enable_two_factor(
                    user, secret, form.code.data, keep_session=web_session.current_session_id()
                ),
                gettext("Two-step sign-in is on. Your other devices have been signed out."),
            )
            if done.ok:
                session.pop(SETUP_KEY, None)
                return self.render_template("security/recovery_codes.html", codes=done.value, user=user)
        return self.render_template(
            "security/two_factor.html", user=user, enabled=False, form=form, secret=secret,
            qr=two_factor.qr_data_uri(two_factor.provisioning_uri(user, secret)),
            required=company_requires_2fa(user.company_id),
        )

    @expose("/two-factor/disable", methods=["POST"])
    @has_access
    def disable_two_factor(self) -> ResponseReturnValue:
        """Turn two-step sign-in off (current password required)."""
        form = PasswordConfirmForm()
        if form.validate_on_submit():
            done = post_action(
                lambda: two_factor.disable_two_factor(
                    g.user, g.user, form.current_password.data, keep_session=web_session.current_session_id()
                ),
                gettext("Two-step sign-in is off."),
            )
            if done.ok:
                return redirect(url_for("ProfileView.index"))
        return redirect(url_for(".two_factor"))

    @expose("/two-factor/codes", methods=["POST"])
    @has_access
    def recovery_codes(self) -> ResponseReturnValue:
        """New recovery codes (current password required); shown once."""
        form = PasswordConfirmForm()
        if form.validate_on_submit():
            done = post_action(lambda: two_factor.regenerate_recovery_codes(g.user, form.current_password.data))
            if done.ok:
                return self.render_template("security/recovery_codes.html", codes=done.value, user=g.user)
        return redirect(url_for(".two_factor"))


class EmployeeSecurityView(CrmView):
    """The owner's security buttons on an employee's profile (same permission as employees)."""

    route_base = "/settings/employees"
    crm_section = "settings"
    class_permission_name = "Employees"
    method_permission_name: ClassVar[dict[str, str]] = {
        "logout_everywhere": "edit",
        "unlock": "edit",
        "password": "edit",
        "reset_two_factor": "edit",
    }

    def _back(self, user: CrmUser) -> ResponseReturnValue:
        return redirect(url_for("EmployeesView.show", user_id=user.id))

    @expose("/<int:user_id>/logout-everywhere", methods=["POST"])
    @has_access
    def logout_everywhere(self, user_id: int) -> ResponseReturnValue:
        """End every session and API token of an employee ("Wyloguj ze wszystkich miejsc")."""
        user = employee_or_404(user_id)
        if ConfirmForm().validate_on_submit():
            if post_action(lambda: sessions.logout_everywhere(user, g.user)).ok:
                if user.id == g.user.id:
                    return _signed_out_everywhere()
                flash(gettext("%(name)s has been signed out on every device.", name=str(user)), "success")
        return self._back(user)

    @expose("/<int:user_id>/unlock", methods=["POST"])
    @has_access
    def unlock(self, user_id: int) -> ResponseReturnValue:
        """Lift an employee's lockout after failed sign-ins."""
        user = employee_or_404(user_id)
        if ConfirmForm().validate_on_submit():
            post_action(lambda: lockout.unlock(user, g.user), gettext("The account has been unlocked."))
        return self._back(user)

    @expose("/<int:user_id>/two-factor-reset", methods=["POST"])
    @has_access
    def reset_two_factor(self, user_id: int) -> ResponseReturnValue:
        """Turn off an employee's two-step sign-in (lost phone); they set it up again."""
        user = employee_or_404(user_id)
        if ConfirmForm().validate_on_submit():
            post_action(
                lambda: two_factor.disable_two_factor(user, g.user),
                gettext("Two-step sign-in of %(name)s has been reset.", name=str(user)),
            )
        return self._back(user)

    @expose("/<int:user_id>/password", methods=["GET", "POST"])
    @has_access
    def password(self, user_id: int) -> ResponseReturnValue:
        """The owner sets a new password for an employee; by default signs them out everywhere."""
        user = employee_or_404(user_id)
        if user.id == g.user.id:
            return redirect(url_for("AccountSecurityView.password"))
        form = SetPasswordByOwnerForm()
        if request.method == "GET":
            form.logout_others.data = True
        if form.validate_on_submit():
            done = form_action(
                form,
                lambda: password_change.change_password(
                    user, g.user, form.password.data, logout_others=bool(form.logout_others.data)
                ),
                gettext("The password of %(name)s has been changed.", name=str(user)),
            )
            if done.ok:
                return self._back(user)
        return self.render_template("security/password.html", form=form, employee=user, own=False)


class SecuritySettingsView(CrmView):
    """"Bezpieczeństwo" settings tab: company-wide 2FA switch and the audit log."""

    route_base = "/settings/security"
    crm_section = "settings"
    class_permission_name = "SecuritySettings"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "policy": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's security policy and its filterable audit log."""
        company_id = current_company_id()
        names = employees_svc.user_names(company_id)
        filters = AuditFilterForm(request.args)
        filters.user.choices = [("", gettext("Everyone"))] + [(str(k), v) for k, v in sorted(names.items(), key=lambda kv: kv[1])]
        filters.event.choices = [("", gettext("All events"))] + [(k, str(v)) for k, v in audit.EVENT_LABELS.items()]
        flt = audit.AuditFilter(
            user_id=id_arg("user"),
            event=request.args.get("event") or None,
            date_from=filters.date_from.data,
            date_to=filters.date_to.data,
            page=id_arg("page") or 1,
        )
        events, pages = audit.list_events(company_id, flt)
        policy = CompanySecurityForm()
        policy.require_2fa.data = company_requires_2fa(company_id)
        args = {k: v for k, v in request.args.items() if k != "page"}
        return self.render_template(
            "security/settings.html", events=events, pages=pages, page=min(max(1, flt.page), pages),
            names=names, labels=audit.EVENT_LABELS, describe=audit.describe, filters=filters, policy=policy, args=args,
            retention=current_app.config["AUDIT_RETENTION_DAYS"],
        )

    @expose("/policy", methods=["POST"])
    @has_access
    def policy(self) -> ResponseReturnValue:
        """Save the company-wide two-step sign-in switch."""
        form = CompanySecurityForm()
        if form.validate_on_submit():
            required = bool(form.require_2fa.data)
            post_action(
                lambda: set_company_2fa(g.user, required),
                gettext("Two-step sign-in is now required from everyone in the company.")
                if required else gettext("Two-step sign-in is now optional."),
            )
        return redirect(url_for(".index"))


class PasswordResetView(CrmView):
    """"Nie pamiętasz hasła?": a signed, single-use, expiring link sent by e-mail."""

    route_base = "/password-reset"
    crm_section = "clients"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> ResponseReturnValue:
        """Ask for a reset link."""
        form = ForgotPasswordForm()
        if form.validate_on_submit():
            if not password_reset.request_reset(form.email.data, reset_link):
                flash(gettext("Password reset by e-mail is not available. Ask your company owner to set a new password."), "warning")
            else:
                flash(gettext("If the address belongs to an account, we have sent a link to set a new password. Check your inbox."), "info")
                return redirect(appbuilder.get_url_for_login)
        return self.render_template("security/forgot.html", form=form)

    @expose("/<token>", methods=["GET", "POST"])
    def reset(self, token: str) -> ResponseReturnValue:
        """Set a new password through the link."""
        user = post_action(lambda: password_reset.user_from_reset(token)).value
        if user is None:  # the reason (expired, used, forged) was flashed: offer a new link
            return redirect(url_for(".index"))
        form = ResetPasswordForm()
        if form.validate_on_submit():
            done = form_action(
                form, lambda: password_reset.reset_password(token, form.password.data),
                gettext("Your new password is set and every device has been signed out. You can sign in now."),
            )
            if done.ok:
                return redirect(appbuilder.get_url_for_login)
        return self.render_template("security/reset.html", form=form, reset_user=user)


class PasswordStrengthView(CrmView):
    """The strength meter of password fields asks the server's rules (JSON, CSRF-checked)."""

    route_base = "/password-strength"

    @expose("/", methods=["POST"])
    def check(self) -> ResponseReturnValue:
        """{"ok": bool, "message": Polish reason, "score": 0-4} for the typed password."""
        data = request.get_json(silent=True) or {}
        password = str(data.get("password", ""))[:200]
        inputs = [str(v)[:200] for v in (data.get("inputs") or [])[:6] if v]
        user = web_session.current_user_row()
        if user is not None:
            inputs += user_inputs(user)
        try:  # the rules answer with a DomainError: here it is the JSON answer, not an error
            check_password(password, inputs)
        except DomainError as err:
            return jsonify(ok=False, message=str(err), score=min(strength_score(password, inputs), 2))
        return jsonify(ok=True, message=gettext("Strong password."), score=strength_score(password, inputs))


class AuthTokenApi(BaseApi):
    """POST /api/v1/auth/token: a JWT bound to the user's session token (no CSRF, rate-limited)."""

    resource_name = "auth"
    class_permission_name = "AuthToken"
    openapi_spec_tag = "Auth"

    @expose("/token", methods=["POST"])
    def token(self) -> ResponseReturnValue:
        """Exchange e-mail, password (and a 2FA code when on) for an access token."""
        data = request.get_json(silent=True) or {}
        try:  # an API answers a refusal with 401 and its message
            token = signin.issue_api_token(str(data.get("username", "")), str(data.get("password", "")),
                                           str(data.get("code", "") or "") or None)
        except DomainError as err:
            return self.response(401, message=str(err))
        return self.response(200, access_token=token)


class MeApi(BaseApi):
    """GET /api/v1/me/: who the token (or browser session) belongs to."""

    resource_name = "me"
    class_permission_name = "AccountSecurity"
    method_permission_name: ClassVar[dict[str, str]] = {"get_me": "show"}
    allow_browser_login = True

    @expose("/", methods=["GET"])
    @protect()
    def get_me(self) -> ResponseReturnValue:
        """The signed-in user's name, e-mail and company; never a password or its hash."""
        user = g.user
        return self.response(
            200,
            id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            company=user.company.name if user.company else None,
            two_factor=user.two_factor_enabled,
        )
