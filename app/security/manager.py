"""Our SecurityManager: FAB's AUTH_DB with a per-user session token and Polish auth views."""

from __future__ import annotations

from typing import Any, Optional

from flask import current_app, flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from app.models.users import CrmUser, new_uniquifier


class CrmAuthDBView(AuthDBView):
    """Login page in Polish with a sign-up link; logout only by POST with CSRF."""

    login_template = "crm/login.html"
    title = _l("Sign in")
    invalid_login_message = _l("Wrong e-mail or password.")

    @expose("/login/", methods=["GET", "POST"])
    def login(self) -> Any:
        """Show the login form and sign the user in."""
        return super().login()

    @expose("/logout/", methods=["POST"])
    def logout(self) -> Any:
        """End the current session (POST only, CSRF-checked)."""
        user = g.user if g.user is not None and g.user.is_authenticated else None
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        flash(str(_l("You have been signed out.")), "info")
        return redirect(self.appbuilder.get_url_for_login)


class CrmSecurityManager(SecurityManager):
    """FAB security with CrmUser, session-token identity and only the views we use."""

    user_model = CrmUser
    authdbview = CrmAuthDBView

    def create_login_manager(self, app: Any) -> LoginManager:
        """Flask-Login loads users by their session token (fs_uniquifier)."""
        lm = LoginManager(app)
        lm.login_view = "CrmAuthDBView.login"
        lm.login_message = _l("Please sign in to continue.")
        lm.login_message_category = "info"
        lm.user_loader(self.load_user_by_token)
        return lm

    def load_user_by_token(self, token: str) -> Optional[CrmUser]:
        """The active user whose current session token is ``token``."""
        if not token:
            return None
        user = self.session.execute(
            select(CrmUser).where(CrmUser.fs_uniquifier == str(token))
        ).scalar_one_or_none()
        if user is not None and user.is_active:
            return user
        return None

    def load_user(self, pk: Any) -> Optional[CrmUser]:
        """JWT and legacy callers: identity is the session token as well."""
        return self.load_user_by_token(str(pk))

    def register_views(self) -> None:
        """Register only the login view: employees and profiles are our own views."""
        self.auth_view = self.authdbview()
        self.appbuilder.add_view_no_menu(self.auth_view)
        if self.is_auth_limited:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"])(self.auth_view.blueprint)

    def rotate_session_token(self, user: CrmUser) -> None:
        """Give the user a new session token; every existing session stops working."""
        user.fs_uniquifier = new_uniquifier()

    def login(self, user: CrmUser) -> None:
        """Start a browser session for ``user`` (used after sign-up)."""
        login_user(user, remember=False)

    @property
    def safe_next(self) -> str:
        """The validated ``next`` URL of the current request."""
        return get_safe_redirect(request.args.get("next", "")) or current_app.config.get(
            "APPLICATION_ROOT", "/"
        )
