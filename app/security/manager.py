"""Our SecurityManager: FAB's AUTH_DB with server-side sessions, a per-user token and Polish auth views."""

from __future__ import annotations

from typing import Any, Optional

from flask import flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.models.users import CrmUser
from app.security import web_session
from app.services import DomainError
from app.services.accounts import signin
from app.services.accounts.lockout import AccountLocked
from app.services.accounts.signups import SignupNotConfirmed


class TwoFactorLoginForm(FlaskForm):
    """Second step of sign-in."""

    code = StringField(
        _l("Verification code"), validators=[DataRequired(_l("This field is required.")), Length(max=20)]
    )


def _ask_to_sign_in_instead_of_denied() -> None:
    """A signed-out visitor sent here from a page gets "sign in to continue", not "access denied"."""
    flashes = session.get("_flashes") or []
    denied = str(FLAMSG_ERR_SEC_ACCESS_DENIED)
    kept = [(cat, msg) for cat, msg in flashes if msg != denied]
    if len(kept) != len(flashes):
        session["_flashes"] = kept
        flash(str(_l("Please sign in to continue.")), "info")


class CrmAuthDBView(AuthDBView):
    """Login page in Polish with a sign-up link; logout only by POST with CSRF."""

    login_template = "crm/login.html"
    title = _l("Sign in")
    invalid_login_message = _l("Wrong e-mail or password.")

    @expose("/login/", methods=["GET", "POST"])
    def login(self) -> ResponseReturnValue:
        """Show the login form; check the password (with lockout), then the second step if on."""
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        _ask_to_sign_in_instead_of_denied()
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            try:
                user = signin.authenticate(form.username.data, form.password.data)
            except SignupNotConfirmed as err:
                flash(str(err), "warning")
                session[web_session.SIGNUP_EMAIL_KEY] = err.email
                return redirect(url_for("SignupView.sent"))
            except DomainError as err:
                flash(str(err), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            if user.two_factor_enabled:
                web_session.start_second_step(user, next_url)
                return redirect(url_for(".second_step"))
            web_session.sign_in(user, "password")
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form, appbuilder=self.appbuilder)

    @expose("/login/code/", methods=["GET", "POST"])
    def second_step(self) -> ResponseReturnValue:
        """Second step of sign-in: a code from the authenticator app or a recovery code."""
        user = web_session.pending_user()
        if user is None:
            flash(str(_l("Please sign in to continue.")), "info")
            return redirect(self.appbuilder.get_url_for_login)
        form = TwoFactorLoginForm()
        if form.validate_on_submit():
            next_url = web_session.pending_next()
            try:
                method = signin.finish_second_step(user, form.code.data)
            except AccountLocked as err:
                web_session.drop_pending()
                flash(str(err), "warning")
                return redirect(self.appbuilder.get_url_for_login)
            except DomainError as err:
                form.code.errors = list(form.code.errors) + [str(err)]
            else:
                web_session.sign_in(user, method)
                return redirect(get_safe_redirect(next_url))
        return self.render_template("security/login_code.html", title=_l("Verification code"), form=form,
                                    appbuilder=self.appbuilder)

    @expose("/logout/", methods=["POST"])
    def logout(self) -> ResponseReturnValue:
        """End the current session on the server and in the browser (POST only, CSRF-checked)."""
        user = web_session.current_user_row()  # the real row, not current_user's proxy
        web_session.end_current()
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        flash(str(_l("You have been signed out.")), "info")
        return redirect(self.appbuilder.get_url_for_login)


class CrmSecurityManager(SecurityManager):
    """FAB security with CrmUser, server-side sessions, token identity for the API and only our views."""

    user_model = CrmUser
    authdbview = CrmAuthDBView

    def create_login_manager(self, app: Any) -> LoginManager:
        """Flask-Login loads users through their server-side session (see app/services/accounts/sessions.py)."""
        lm = LoginManager(app)
        lm.login_view = "CrmAuthDBView.login"
        lm.login_message = _l("Please sign in to continue.")
        lm.login_message_category = "info"
        lm.user_loader(self.load_user_by_token)
        web_session.install(app)
        return lm

    def load_user_by_token(self, token: str) -> Optional[CrmUser]:
        """The active user of the open browser session whose cookie token is ``token``."""
        return web_session.load_user(token)

    def load_user_by_uniquifier(self, token: str) -> Optional[CrmUser]:
        """The active user whose current session token (``fs_uniquifier``) is ``token``."""
        if not token:
            return None
        user = self.session.execute(
            select(CrmUser).where(CrmUser.fs_uniquifier == str(token))
        ).scalar_one_or_none()
        if user is not None and user.is_active:
            return user
        return None

    def create_limiter(self, app: Any) -> Limiter:
        """FAB's limiter, always initialised; RATELIMIT_ENABLED only switches it on or off.

        Initialising it fully lets a test switch limits on at run time (``limiter.enabled``).
        """
        enabled = bool(app.config.get("RATELIMIT_ENABLED", False))
        app.config["RATELIMIT_ENABLED"] = True
        limiter = Limiter(key_func=app.config.get("RATELIMIT_KEY_FUNC", get_remote_address))
        limiter.init_app(app)
        limiter.enabled = enabled
        app.config["RATELIMIT_ENABLED"] = enabled
        return limiter

    def on_user_logout(self, user: CrmUser) -> None:
        """Record the sign-out in the audit log."""
        signin.record_logout(user)

    def load_user(self, pk: Any) -> Optional[CrmUser]:
        """JWT callers: the token's identity is the user's session token (``fs_uniquifier``)."""
        return self.load_user_by_uniquifier(str(pk))

    def register_views(self) -> None:
        """Register only the login view: employees and profiles are our own views."""
        self.auth_view = self.authdbview()
        self.appbuilder.add_view_no_menu(self.auth_view)
        if self.is_auth_limited:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"])(self.auth_view.blueprint)

    def login(self, user: CrmUser) -> None:
        """Start a browser session for ``user`` (used after sign-up)."""
        web_session.sign_in(user)
