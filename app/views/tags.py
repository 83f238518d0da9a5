"""The "Tagi" settings tab: list, add, edit (click the name or the edit button), delete."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import db
from app.services import DomainError
from app.services import tags as svc
from app.views.base import CrmView, current_company_id, show_domain_error
from app.views.contacts_forms import TagForm
from app.views.forms import ConfirmForm


class TagsView(CrmView):
    """Coloured tags for contacts."""

    route_base = "/settings/tags"
    crm_section = "settings"
    class_permission_name = "Tags"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "add": "add", "edit": "edit", "delete": "delete"}

    def _get(self, tag_id: int) -> Any:
        tag = svc.get_tag(current_company_id(), tag_id)
        if tag is None:
            abort(404)
        return tag

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The company's tags."""
        return self.render_template("crm/tags.html", tags=svc.list_tags(current_company_id()), confirm=ConfirmForm())

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """"Dodaj nowy tag"."""
        form = TagForm()
        if form.validate_on_submit():
            try:
                tag = svc.create_tag(current_company_id(), form.name.data, form.color.data)
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Tag %(name)s added.", name=tag.name), "success")
                return redirect(url_for(".index"))
        return self.render_template("crm/tag_form.html", form=form, tag=None)

    @expose("/<int:tag_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, tag_id: int) -> Any:
        """Change a tag's name or colour."""
        tag = self._get(tag_id)
        form = TagForm(obj=tag)
        if form.validate_on_submit():
            try:
                svc.update_tag(current_company_id(), tag.id, form.name.data, form.color.data)
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Changes saved."), "success")
                return redirect(url_for(".index"))
        return self.render_template("crm/tag_form.html", form=form, tag=tag)

    @expose("/<int:tag_id>/delete", methods=["POST"])
    @has_access
    def delete(self, tag_id: int) -> Any:
        """Move a tag to the trash (POST with CSRF)."""
        tag = self._get(tag_id)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        svc.delete_tag(current_company_id(), tag.id, g.user.id)
        flash(gettext("Tag %(name)s deleted.", name=tag.name), "success")
        return redirect(url_for(".index"))
