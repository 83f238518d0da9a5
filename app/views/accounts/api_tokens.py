"""Profile section "Tokeny API": make a personal API token (shown once), list them with last use, revoke."""

from __future__ import annotations

from typing import ClassVar

from flask import g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.models.mixins import utcnow
from app.services.accounts import api_tokens as svc
from app.views.base import CrmView, current_company_id, form_action, post_action
from app.views.forms import REQUIRED, ConfirmForm


class ApiTokenForm(FlaskForm):
    """"Nowy token": a name, what it may do, how long it works."""

    name = StringField(_l("Token name"), validators=[DataRequired(REQUIRED), Length(max=80)])
    scope = SelectField(_l("Access"), choices=[(k, v) for k, v in svc.SCOPE_LABELS.items()], default="read")
    days = SelectField(
        _l("Valid for"), coerce=int, default=90,
        choices=[(30, _l("30 days")), (90, _l("90 days")), (365, _l("1 year"))],
    )


class ApiTokensView(CrmView):
    """The signed-in user's own API tokens."""

    route_base = "/profile/api-tokens"
    crm_section = "settings"
    class_permission_name = "ApiTokens"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "read", "revoke": "edit"}

    def _page(self, form: ApiTokenForm, secret: str | None = None) -> ResponseReturnValue:
        return self.render_template(
            "api/tokens.html", form=form, confirm=ConfirmForm(), secret=secret, now=utcnow(),
            tokens=svc.list_tokens(current_company_id(), g.user), stamp=svc.stamp_of(g.user),
            scope_labels=svc.SCOPE_LABELS,
        )

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> ResponseReturnValue:
        """The list and the "new token" form; a new token's secret is shown on this answer only."""
        form = ApiTokenForm()
        if form.validate_on_submit():
            data = svc.TokenData(name=form.name.data or "", scope=form.scope.data or "", days=int(form.days.data or 0))
            done = form_action(form, lambda: svc.create_token(current_company_id(), g.user, data),
                               gettext("The token has been created. Copy it now: it will not be shown again."))
            if done.ok:
                return self._page(ApiTokenForm(formdata=None), secret=done.result.secret)
        return self._page(form)

    @expose("/<int:token_id>/revoke", methods=["POST"])
    @has_access
    def revoke(self, token_id: int) -> ResponseReturnValue:
        """Revoke one of the user's tokens (POST with CSRF); another's token: "does not exist"."""
        if ConfirmForm().validate_on_submit():
            post_action(lambda: svc.revoke_token(current_company_id(), g.user, token_id),
                        gettext("The token has been revoked."))
        return redirect(url_for(".index"))
