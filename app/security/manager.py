"""Our SecurityManager: FAB's AUTH_DB with server-side sessions, a per-user token and Polish auth views."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any, NamedTuple, Optional

from flask import flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu, assoc_permissionview_role
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import event, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import get_history, set_committed_value
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.models.company import Company
from app.models.security import CompanySecurity
from app.models.users import CrmUser
from app.security import api_auth, web_session
from app.services import DomainError
from app.services.accounts import api_tokens, signin
from app.services.accounts.lockout import AccountLocked
from app.services.accounts.signups import SignupNotConfirmed

# ---------------------------------------------------------------- the per-session identity cache
#
# Every signed-in request used to load the user's roles and groups, the company's 2FA policy and
# then run one EXISTS per permission check (the view, then each menu entry): about 16 statements
# before the page's own queries. Each worker process now keeps:
#
# - per open session, what identifies the user's access: role ids and names, the company's 2FA
#   policy. The key holds the session id, the user id, the company id, the user's session token,
#   ``ab_user.changed_on`` and ``company.updated_at``; a change of roles, groups, activity or
#   company bumps ``changed_on`` and a change of the 2FA policy bumps ``company.updated_at`` (see
#   ``_bump_on_access_change``), so every worker sees the new key on the next request;
# - per set of role ids, the set of (permission, view) pairs those roles grant. Role permissions
#   change only through ``flask crm sync-roles`` / ``sync_roles`` at deploy time; a flush that
#   touches roles or permissions clears it in that process, and ``invalidate_access_cache`` clears
#   everything.
#
# Only plain values are cached, never ORM rows, so nothing is shared between sessions.

#: most open sessions remembered per worker process (least recently used forgotten first)
SESSION_CACHE_SIZE = 4096


class _Access(NamedTuple):
    """What a session's user may do: roles (id, name), their groups and the company's 2FA row."""

    roles: tuple[tuple[int, str], ...]
    require_2fa: Optional[bool]
    policy_changed: Optional[dt.datetime]


_lock = threading.Lock()
_sessions: "OrderedDict[tuple, _Access]" = OrderedDict()
_role_permissions: dict[frozenset[int], frozenset[tuple[str, str]]] = {}


def invalidate_access_cache() -> None:
    """Forget every cached session and role permission set of this process."""
    with _lock:
        _sessions.clear()
        _role_permissions.clear()


def _session_key(user: CrmUser, session_id: Optional[int]) -> tuple:
    company = user.company
    return (session_id, user.id, user.company_id, user.fs_uniquifier, user.changed_on,
            company.updated_at if company is not None else None)


def _remember(key: tuple, access: _Access) -> None:
    with _lock:
        _sessions[key] = access
        _sessions.move_to_end(key)
        while len(_sessions) > SESSION_CACHE_SIZE:
            _sessions.popitem(last=False)


def _recall(key: tuple) -> Optional[_Access]:
    with _lock:
        access = _sessions.get(key)
        if access is not None:
            _sessions.move_to_end(key)
        return access


def _detached(session: Session, model: Any, **values: Any) -> Any:
    """A clean persistent instance of ``model`` with ``values`` in ``session``, without a query."""
    obj = model(**values)
    make_transient_to_detached(obj)
    return session.merge(obj, load=False)


def _apply(session: Session, user: CrmUser, access: _Access) -> None:
    """Put the cached roles (no groups) and 2FA policy into ``session`` so nothing is queried."""
    roles = [_detached(session, Role, id=rid, name=name) for rid, name in access.roles]
    set_committed_value(user, "roles", roles)
    set_committed_value(user, "groups", [])
    if user.company_id is not None:
        policy = _detached(session, CompanySecurity, company_id=user.company_id,
                           require_2fa=bool(access.require_2fa), updated_at=access.policy_changed)
        if access.require_2fa is None:
            # the company never saved a policy: this stand-in answers "not required" without a
            # query; a first change of it is stored as a new row (_bump_on_access_change)
            policy.crm_not_stored = True
        # the identity map holds rows weakly: keep the policy alive for the request
        g.crm_company_policy = policy


def _capture(session: Session, user: CrmUser) -> Optional[_Access]:
    """Read the user's roles and 2FA policy (a cache miss); None when the user is in a group."""
    if user.groups:
        return None
    policy = session.get(CompanySecurity, user.company_id) if user.company_id is not None else None
    return _Access(roles=tuple((r.id, r.name) for r in user.roles),
                   require_2fa=None if policy is None else bool(policy.require_2fa),
                   policy_changed=None if policy is None else policy.updated_at)


_ACCESS_ATTRS = ("roles", "groups", "active", "company_id", "fs_uniquifier")


@event.listens_for(Session, "before_flush")
def _bump_on_access_change(session: Session, _ctx: Any, _instances: Any) -> None:
    """A change of a user's access bumps ``changed_on``; of a company's 2FA policy, ``company.updated_at``."""
    now = dt.datetime.now()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, CrmUser) and obj in session.dirty:
            if any(get_history(obj, attr).has_changes() for attr in _ACCESS_ATTRS):
                obj.changed_on = now
        elif isinstance(obj, CompanySecurity):
            if getattr(obj, "crm_not_stored", False):
                if obj not in session.dirty:
                    continue
                session.expunge(obj)
                session.add(CompanySecurity(company_id=obj.company_id, require_2fa=obj.require_2fa))
            company = session.get(Company, obj.company_id)
            if company is not None:
                company.updated_at = now
        elif isinstance(obj, (Role, PermissionView, Permission, ViewMenu)):
            with _lock:
                _role_permissions.clear()


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

    def create_jwt_manager(self, app: Any) -> JWTManager:
        """FAB's JWT manager whose refusals are the API's JSON errors in Polish."""
        jwt_manager = super().create_jwt_manager(app)
        for loader in (jwt_manager.unauthorized_loader, jwt_manager.expired_token_loader,
                       jwt_manager.revoked_token_loader, jwt_manager.needs_fresh_token_loader,
                       jwt_manager.user_lookup_error_loader, jwt_manager.token_verification_failed_loader):
            loader(api_auth.unauthorized)
        jwt_manager.invalid_token_loader(api_auth.malformed)  # not a token at all: 422, as before
        return jwt_manager

    def load_user_by_token(self, token: str) -> Optional[CrmUser]:
        """The active user of the open browser session whose cookie token is ``token``.

        The user's roles and company policy come from the per-session cache when it is current.
        """
        user = web_session.load_user(token)
        if user is None:
            return None
        key = _session_key(user, web_session.current_session_id())
        access = _recall(key)
        if access is not None:
            _apply(self.session, user, access)
            return user
        access = _capture(self.session, user)
        if access is not None:
            _remember(key, access)
        return user

    def _permissions_of(self, role_ids: frozenset[int]) -> frozenset[tuple[str, str]]:
        """Every (permission, view) pair granted to the roles ``role_ids`` (cached per role set)."""
        cached = _role_permissions.get(role_ids)
        if cached is not None:
            return cached
        rows = self.session.execute(
            select(Permission.name, ViewMenu.name)
            .select_from(PermissionView)
            .join(Permission, Permission.id == PermissionView.permission_id)
            .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
            .join(assoc_permissionview_role, assoc_permissionview_role.c.permission_view_id == PermissionView.id)
            .where(assoc_permissionview_role.c.role_id.in_(role_ids))
        ).all()
        granted = frozenset((perm, view) for perm, view in rows)
        with _lock:
            _role_permissions[role_ids] = granted
        return granted

    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        """FAB's check, answered from the cached permission set of the user's roles (no query per check)."""
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles and self._has_access_builtin_roles(role, permission_name, view_name)
               for role in roles):
            return True
        db_role_ids = frozenset(role.id for role in roles if role.name not in self.builtin_roles)
        return bool(db_role_ids) and (permission_name, view_name) in self._permissions_of(db_role_ids)

    def _get_user_permission_view_menus(self, user: object, permission_name: str,
                                        view_menus_name: Optional[list[str]]) -> set[str]:
        """The menus among ``view_menus_name`` the user may open, from the cached permission set."""
        if user is None:
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        roles = self.get_user_roles(user)
        db_role_ids = frozenset(role.id for role in roles if role.name not in self.builtin_roles)
        granted = self._permissions_of(db_role_ids) if db_role_ids else frozenset()
        result = {view for perm, view in granted if perm == permission_name}
        result |= {name for role in roles if role.name in self.builtin_roles for name in (view_menus_name or [])
                   if self._has_access_builtin_roles(role, permission_name, name)}
        if view_menus_name is not None:
            result &= set(view_menus_name)
        return result

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

    def load_user_jwt(self, _jwt_header: Any, jwt_data: Any) -> Optional[CrmUser]:
        """The authentication step of a JWT call: the user, and their company put in scope."""
        user = self.load_user(jwt_data.get("sub"))
        if user is None or not user.is_active:
            return None
        api_auth.enter(user, api_auth.JWT_SCOPE)
        return user

    def validate_api_key(self, api_key_string: str) -> Optional[CrmUser]:
        """The authentication step of a personal API token: the user, and their company put in scope."""
        caller = api_tokens.authenticate(api_key_string, request.remote_addr)
        if caller is None:
            return None
        api_auth.enter(caller.user, caller.scope, caller.token_id)
        g._api_key_user = True
        return caller.user

    def register_views(self) -> None:
        """Register only the login view: employees and profiles are our own views."""
        self.auth_view = self.authdbview()
        self.appbuilder.add_view_no_menu(self.auth_view)
        if self.is_auth_limited:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"])(self.auth_view.blueprint)

    def login(self, user: CrmUser) -> None:
        """Start a browser session for ``user`` (used after sign-up)."""
        web_session.sign_in(user)
