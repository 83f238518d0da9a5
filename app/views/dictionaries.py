"""Settings lists ("dictionaries") as declarations: list, "Dodaj ...", "Edycja", delete.

A new settings list is a subclass of ``DictionaryView`` naming its ``Dictionary`` (the rules in
``app/services/dictionaries.py``), its route, permission name and texts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from app.services import dictionaries
from app.services.dictionaries import NAME_MAX, Dictionary
from app.views.base import CrmView, current_company_id, form_action, found, post_action
from app.views.forms import REQUIRED, ConfirmForm


class DictionaryForm(FlaskForm):
    """Name and colour of a settings-list entry."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=NAME_MAX)])
    color = StringField(_l("Colour"), validators=[Optional(), Length(max=7)], render_kw={"type": "color"})


class DictionaryView(CrmView):
    """List, add, edit and delete the entries of one ``Dictionary``."""

    crm_section = "settings"
    spec: ClassVar[Dictionary]
    #: element ids in the page: ``add-<dom>``, ``<dom_plural>-table``, ``<dom>-form``, ``save-<dom>``
    dom: ClassVar[str]
    dom_plural: ClassVar[str]
    icon: ClassVar[str] = "fa-list"
    #: texts: title, lead (optional), add, edit, empty_title, empty_text, confirm_delete, added, saved, deleted
    texts: ClassVar[dict[str, Any]]
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "add": "add", "edit": "edit", "delete": "delete"}

    def _flash(self, key: str, entry: Any) -> None:
        flash(str(self.texts[key]) % {"name": entry.name}, "success")

    def _page(self, template: str, **kw: Any) -> Any:
        return self.render_template(template, view=self, t=self.texts, **kw)

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's entries by name."""
        entries = dictionaries.entries(self.spec, current_company_id())
        return self._page("crm/dictionary.html", entries=entries, confirm=ConfirmForm())

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """Add an entry."""
        form = DictionaryForm()
        if not form.is_submitted():
            form.color.data = self.spec.default_color
        if form.validate_on_submit():
            done = form_action(
                form, lambda: dictionaries.create_entry(self.spec, current_company_id(), form.name.data, form.color.data),
            )
            if done.ok:
                self._flash("added", done.value)
                return redirect(url_for(".index"))
        return self._page("crm/dictionary_form.html", form=form, entry=None)

    @expose("/<int:entry_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, entry_id: int) -> ResponseReturnValue:
        """Rename an entry or change its colour."""
        entry = found(dictionaries.get_entry(self.spec, current_company_id(), entry_id))
        form = DictionaryForm(obj=entry)
        if form.validate_on_submit():
            done = form_action(
                form, lambda: dictionaries.update_entry(self.spec, entry.company_id, entry.id, form.name.data, form.color.data),
            )
            if done.ok:
                self._flash("saved", done.value)
                return redirect(url_for(".index"))
        return self._page("crm/dictionary_form.html", form=form, entry=entry)

    @expose("/<int:entry_id>/delete", methods=["POST"])
    @has_access
    def delete(self, entry_id: int) -> ResponseReturnValue:
        """Move an entry to the trash (POST with CSRF)."""
        entry = found(dictionaries.get_entry(self.spec, current_company_id(), entry_id))
        if not ConfirmForm().validate_on_submit():
            abort(400)
        if post_action(lambda: dictionaries.delete_entry(self.spec, entry.company_id, entry.id, g.user.id)).ok:
            self._flash("deleted", entry)
        return redirect(url_for(".index"))
