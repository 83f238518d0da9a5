"""Client bases ("Bazy klientów") and their contacts: lists, search, forms, tagging, picker API."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import format_decimal, gettext, ngettext

from app.models.contacts import ClientBase, Contact
from app.services.accounts import employees as employees_svc
from app.services.contacts import bases as bases_svc
from app.services.contacts import contacts as svc
from app.services.contacts import search as search_svc
from app.services.contacts import tags as tags_svc
from app.views.base import CrmView, current_company_id, form_action, found, id_arg, post_action
from app.views.contacts.contacts_forms import BaseForm, ContactForm, RenameBaseForm
from app.views.forms import ConfirmForm

CONTACT_FIELDS = (
    "name", "first_name", "last_name", "position", "nip", "regon", "krs", "pesel", "street",
    "postal_code", "city", "email", "phone", "website", "notes", "employer_id", "owner_id",
    "consent_given_at", "consent_source", "consent_text",
)
LIST_TEMPLATE = "crm/contacts.html"
#: the rows alone, for search as you type
LIST_PARTIAL_TEMPLATE = "crm/_contact_list.html"


def _list_context(base_id: int | None) -> dict[str, Any]:
    """Filters from the query string, the page of contacts and what the list template needs."""
    company_id = current_company_id()
    q = (request.args.get("q") or "").strip()[:100]
    tag_id = id_arg("tag")
    tag = tags_svc.get_tag(company_id, tag_id) if tag_id is not None else None
    sort = request.args.get("sort") or "name"
    if sort not in search_svc.SORTS:
        sort = "name"
    page = search_svc.list_contacts(
        company_id, base_id=base_id, q=search_svc.parse_query(q),
        tag_id=tag.id if tag else (-1 if tag_id else None),
        sort=sort, after=request.args.get("after"), before=request.args.get("before"),
    )
    if page.total_capped:
        count_label = gettext("over %(n)s contacts", n=format_decimal(page.total))
    else:
        count_label = ngettext("%(n)s contact", "%(n)s contacts", page.total, n=format_decimal(page.total))
    return {
        "page": page, "count_label": count_label, "q": q, "tag": tag, "sort": sort,
        "tags": tags_svc.list_tags(company_id), "bulk": ConfirmForm(),
        "filters": {"q": q, "tag": tag.id if tag else "", "sort": sort},
    }


def _list_template() -> str:
    """The whole page, or only the rows when the search box asks for them."""
    return LIST_PARTIAL_TEMPLATE if request.args.get("partial") else LIST_TEMPLATE


def _confirmed() -> None:
    """A button's POST must carry a valid CSRF token (400 otherwise)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _base(base_id: int) -> ClientBase:
    """A live base of the signed-in company, or 404."""
    return found(bases_svc.get_base(current_company_id(), base_id))


def _contact(contact_id: int) -> Contact:
    """A live contact of the signed-in company, or 404."""
    return found(svc.get_contact(current_company_id(), contact_id))


class ClientBasesView(CrmView):
    """The "Bazy klientów" section: list of bases, add, rename, delete, contacts of a base."""

    route_base = "/bases"
    crm_section = "clients"
    class_permission_name = "ClientBases"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "show": "list", "add": "add", "edit": "edit", "delete": "delete"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """All bases of the company with their contact counts."""
        return self.render_template(
            "crm/bases.html", bases=bases_svc.list_bases(current_company_id()),
            kind_labels=bases_svc.BASE_KIND_LABELS, fmt=format_decimal,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Dodaj nową bazę": after saving the user lands inside the new base."""
        form = BaseForm()
        if form.validate_on_submit():
            done = form_action(form, lambda: bases_svc.create_base(current_company_id(), form.name.data, form.kind.data))
            if done.ok and done.value is not None:
                flash(gettext("Client base %(name)s added.", name=done.value.name), "success")
                return redirect(url_for(".show", base_id=done.value.id))
        return self.render_template("crm/base_form.html", form=form, base=None)

    @expose("/<int:base_id>")
    @has_access
    def show(self, base_id: int) -> ResponseReturnValue:
        """The contacts of one base: search as you type, tag filter, sorting, keyset paging."""
        base = _base(base_id)
        return self.render_template(_list_template(), base=base, kind_labels=bases_svc.BASE_KIND_LABELS,
                                    confirm=ConfirmForm(), **_list_context(base.id))

    @expose("/<int:base_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, base_id: int) -> ResponseReturnValue:
        """Rename a base."""
        base = _base(base_id)
        form = RenameBaseForm(obj=base)
        if form.validate_on_submit():
            done = form_action(form, lambda: bases_svc.rename_base(current_company_id(), base.id, form.name.data),
                               gettext("Changes saved."))
            if done.ok:
                return redirect(url_for(".show", base_id=base.id))
        return self.render_template("crm/base_form.html", form=form, base=base)

    @expose("/<int:base_id>/delete", methods=["POST"])
    @has_access
    def delete(self, base_id: int) -> ResponseReturnValue:
        """Move a base with all its contacts to the trash (POST with CSRF)."""
        base = _base(base_id)
        _confirmed()
        post_action(
            lambda: bases_svc.delete_base(current_company_id(), base.id, g.user.id),
            gettext("Client base %(name)s moved to the trash with its contacts.", name=base.name),
        )
        return redirect(url_for(".index"))


class ContactsView(CrmView):
    """Contacts: search across bases, add (company or person), show, edit, delete, tags, picker API."""

    route_base = "/contacts"
    crm_section = "clients"
    class_permission_name = "Contacts"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "api_pick": "list", "add": "add", "edit": "edit",
        "set_tags": "edit", "bulk": "edit", "delete": "delete",
    }

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Search contacts across all bases."""
        return self.render_template(_list_template(), base=None, kind_labels=bases_svc.BASE_KIND_LABELS,
                                    confirm=ConfirmForm(), **_list_context(None))

    def _form(self, base: ClientBase, contact: Contact | None = None) -> ContactForm:
        """The contact form with its dropdowns (account managers, employers of the same base)."""
        company_id = current_company_id()
        form = ContactForm(obj=contact)
        owners = employees_svc.active_people(company_id)
        form.owner_id.choices = [("", "—")] + [(str(u.id), str(u)) for u in owners]
        employers = [c for c in svc.employer_choices(company_id, base.id) if contact is None or c.id != contact.id]
        if contact is not None and contact.employer is not None and contact.employer not in employers:
            employers.insert(0, contact.employer)
        form.employer_id.choices = [("", "—")] + [(str(c.id), c.name) for c in employers]
        if request.method == "GET":
            if contact is None:
                form.owner_id.data = str(g.user.id)
                form.employer_id.data = request.args.get("employer", "")
            else:
                form.owner_id.data = str(contact.owner_id or "")
                form.employer_id.data = str(contact.employer_id or "")
                if contact.consent_given_at:
                    form.consent_given_at.data = contact.consent_given_at.date().isoformat()
        return form

    @staticmethod
    def _data(form: ContactForm, kind: str) -> svc.ContactData:
        """The submitted form as the service's data object."""
        return svc.ContactData(kind=kind, **{k: getattr(form, k).data for k in CONTACT_FIELDS})

    @expose("/add/<int:base_id>", methods=["GET", "POST"])
    @has_access
    def add(self, base_id: int) -> ResponseReturnValue:
        """"Dodaj nowy kontakt": choose company or person, then fill the matching form."""
        base = _base(base_id)
        kind = request.args.get("kind")
        if kind not in ("company", "person"):
            return self.render_template("crm/contact_kind.html", base=base)
        form = self._form(base)
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_contact(current_company_id(), base.id, self._data(form, kind)))
            if done.ok and done.value is not None:
                flash(gettext("Contact %(name)s added.", name=done.value.name), "success")
                return redirect(url_for(".show", contact_id=done.value.id))
        return self.render_template("crm/contact_form.html", form=form, base=base, kind=kind, contact=None)

    @expose("/<int:contact_id>")
    @has_access
    def show(self, contact_id: int) -> ResponseReturnValue:
        """A contact's card with its tags and, for a company, the people who work there."""
        contact = _contact(contact_id)
        company_id = current_company_id()
        # only a company employs people: a person's card does not look them up
        people = svc.people_of(company_id, contact.id) if contact.kind == "company" else []
        return self.render_template(
            "crm/contact.html", contact=contact, base=_base(contact.base_id),
            tags=tags_svc.list_tags(company_id), people=people,
            confirm=ConfirmForm(),
        )

    @expose("/<int:contact_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, contact_id: int) -> ResponseReturnValue:
        """Edit a contact (its kind and base stay); the service reuses the contact loaded here."""
        contact = _contact(contact_id)
        base = _base(contact.base_id)
        form = self._form(base, contact)
        if form.validate_on_submit():
            done = form_action(
                form, lambda: svc.update_contact(current_company_id(), contact.id, self._data(form, contact.kind)),
                gettext("Changes saved."),
            )
            if done.ok:
                return redirect(url_for(".show", contact_id=contact_id))
        return self.render_template("crm/contact_form.html", form=form, base=base, kind=contact.kind, contact=contact)

    @expose("/<int:contact_id>/delete", methods=["POST"])
    @has_access
    def delete(self, contact_id: int) -> ResponseReturnValue:
        """Move one contact to the trash (POST with CSRF)."""
        contact = _contact(contact_id)
        _confirmed()
        name, base_id = contact.name, contact.base_id
        post_action(
            lambda: svc.delete_contacts(current_company_id(), [contact.id], g.user.id),
            gettext("Contact %(name)s moved to the trash.", name=name),
        )
        return redirect(url_for("ClientBasesView.show", base_id=base_id))

    @expose("/<int:contact_id>/tags", methods=["POST"])
    @has_access
    def set_tags(self, contact_id: int) -> ResponseReturnValue:
        """Give one contact the ticked tags (POST with CSRF)."""
        contact = _contact(contact_id)
        _confirmed()
        post_action(
            lambda: tags_svc.set_contact_tags(current_company_id(), contact.id, request.form.getlist("tag_ids")),
            gettext("Tags saved."),
        )
        return redirect(url_for(".show", contact_id=contact_id))

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self) -> ResponseReturnValue:
        """Add or remove a tag on the selected contacts, or move them to the trash (POST with CSRF)."""
        _confirmed()
        company_id = current_company_id()
        ids = request.form.getlist("ids")
        action = request.form.get("action")
        if action in ("tag", "untag"):
            done = post_action(
                lambda: tags_svc.tag_contacts(company_id, ids, request.form.get("tag_id"), add=action == "tag")
            )
            if done.ok:
                flash(gettext("Tag changed on %(n)s contacts.", n=done.value), "success")
        elif action == "delete":
            post_action(
                lambda: svc.delete_contacts(company_id, ids, g.user.id),
                gettext("%(n)s contacts moved to the trash.", n=len(ids)),
            )
        else:
            flash(gettext("Choose an action."), "danger")
        return redirect(_safe_next(request.form.get("next")))

    @expose("/api/pick")
    @has_access
    def api_pick(self) -> ResponseReturnValue:
        """JSON for as-you-type pickers in offers, invoices and tasks: never a mailing-base contact."""
        items = svc.search_pickable(current_company_id(), request.args.get("q", "")[:100], limit=20)
        return jsonify([
            {"id": c.id, "name": c.name, "kind": c.kind, "base": c.base.name if c.base else None,
             "email": c.email, "nip": c.nip, "city": c.city}
            for c in items
        ])


def _safe_next(target: str | None) -> str:
    """A local path to go back to after a bulk action (never another site)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("ClientBasesView.index")
