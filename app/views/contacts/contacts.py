"""Client bases ("Bazy klientów") and their contacts: lists, search, forms, tagging, picker API."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, g, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from app.extensions import appbuilder
from app.models.contacts import ClientBase, Contact
from app.services import DomainError, inputs
from app.services.accounts import employees as employees_svc
from app.services.contacts import bases as bases_svc
from app.services.contacts import bulk as bulk_svc
from app.services.contacts import card as card_svc
from app.services.contacts import contacts as svc
from app.services.contacts import notes as notes_svc
from app.services.contacts import search as search_svc
from app.services.contacts import tags as tags_svc
from app.services.invoicing import invoices as invoices_svc
from app.services.sales import offers as offers_svc
from app.services.sales import orders as orders_svc
from app.services.sales import pricing
from app.services.work import tasks as tasks_svc
from app.views.base import CrmView, current_company_id, form_action, found, id_arg, post_action
from app.views.contacts.contacts_forms import BaseForm, ContactForm, RenameBaseForm
from app.views.forms import ConfirmForm
from app.views.pickers import contact_item, employer_label
from app.views.work.tasks import fmt_due

CONTACT_FIELDS = (
    "name", "first_name", "last_name", "position", "nip", "regon", "krs", "pesel", "street",
    "postal_code", "city", "email", "phone", "website", "notes", "employer_id", "owner_id",
    "consent_given_at", "consent_source", "consent_text",
)
LIST_TEMPLATE = "crm/contacts.html"
#: the rows alone, for search as you type
LIST_PARTIAL_TEMPLATE = "crm/_contact_list.html"

#: the card's sections: title, icon, colour (menu section), the endpoint of "Dodaj" (opened with
#: ``?contact_id=``) and the permission (view name) its "can_add" needs
CARD_SECTIONS: dict[str, tuple[Any, str, str, str | None, str | None]] = {
    "tasks": (_l("Tasks"), "fa-list-check", "tasks", "TasksView.add", "Tasks"),
    "offers": (_l("Offers"), "fa-file-signature", "offers", "OffersView.add", "Offers"),
    "orders": (_l("Orders"), "fa-clipboard-list", "orders", "OrdersView.add", "Orders"),
    "invoices": (_l("Invoices"), "fa-file-invoice-dollar", "invoices", "InvoiceEditView.add", "InvoiceIssue"),
    "binders": (_l("Binders"), "fa-folder-open", "binders", "BindersView.add", "Binders"),
    "files": (_l("Files"), "fa-paperclip", "binders", None, None),
    "campaigns": (_l("E-mail campaigns"), "fa-envelope", "emailing", None, None),
    "notes": (_l("Notes"), "fa-note-sticky", "clients", None, None),
}


#: what a section says when it has nothing yet
CARD_EMPTY: dict[str, Any] = {
    "tasks": _l("No tasks for this client yet."),
    "offers": _l("No offers for this client yet."),
    "orders": _l("No orders for this client yet."),
    "invoices": _l("No invoices for this client yet."),
    "binders": _l("No binders for this client yet."),
    "files": _l("No files for this client yet."),
    "campaigns": _l("No mailings yet"),
    "notes": _l("No notes yet."),
}


class NoteForm(FlaskForm):
    """A new entry of the client's notes timeline."""

    text = TextAreaField(_l("Text of the note"))


def _card_labels(can_add: bool = True) -> dict[str, Any]:
    """Labels and formatters the card's rows use (and which "Dodaj" buttons the user may use)."""
    return {
        "card_sections": CARD_SECTIONS, "money": pricing.format_money, "fmt_due": fmt_due,
        "task_status_labels": tasks_svc.STATUS_LABELS, "offer_status_labels": offers_svc.STATUS_LABELS,
        "order_status_labels": orders_svc.STATUS_LABELS, "invoice_status_labels": invoices_svc.STATUS_LABELS,
        "card_empty": CARD_EMPTY, "card_can_add": _can_add() if can_add else {},
    }


def _can_add() -> dict[str, bool]:
    """Which sections' "Dodaj" the signed-in user may use (a button never leads to "Brak dostępu")."""
    held = appbuilder.sm.get_user_permissions(g.user)  # one query for all sections
    return {key: perm is not None and ("can_add", perm) in held for key, (_t, _i, _c, _e, perm) in CARD_SECTIONS.items()}


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
        "index": "list", "show": "list", "api_pick": "list", "api_employers": "list", "add": "add", "edit": "edit",
        "set_tags": "edit", "bulk": "edit", "bulk_job": "edit", "bulk_progress": "edit", "delete": "delete",
        "card_section": "list", "card_fragment": "list", "add_note": "edit", "delete_note": "edit",
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
        return self.render_template("crm/contact_form.html", form=form, base=base, kind=kind, contact=None,
                                    employer_label=employer_label(current_company_id(), base.id, form.employer_id.data))

    @expose("/<int:contact_id>")
    @has_access
    def show(self, contact_id: int) -> ResponseReturnValue:
        """The client's card: details, tags, balance; each kind of related thing and the notes come as
        a fragment of its own after the page (``card_fragment``), so the page stays a few statements.
        """
        contact = _contact(contact_id)
        company_id = current_company_id()
        # only a company employs people: a person's card does not look them up
        people = svc.people_of(company_id, contact.id) if contact.kind == "company" else []
        return self.render_template(
            "crm/contact.html", contact=contact, base=_base(contact.base_id),
            tags=tags_svc.list_tags(company_id), people=people,
            confirm=ConfirmForm(), section_keys=card_svc.sections_of(contact), **_card_labels(can_add=False),
        )

    @expose("/<int:contact_id>/card/<section>/fragment")
    @has_access
    def card_fragment(self, contact_id: int, section: str) -> ResponseReturnValue:
        """The first page of one section of the card, with its title and "Dodaj" (loaded by the card page)."""
        contact = _contact(contact_id)
        if section not in card_svc.sections_of(contact):
            abort(404)
        page = found(card_svc.section_page(current_company_id(), contact.id, section))
        return render_template("crm/_card_section.html", contact=contact, key=section, section=page,
                               note_form=NoteForm() if section == "notes" else None, **_card_labels())

    @expose("/<int:contact_id>/card/<section>")
    @has_access
    def card_section(self, contact_id: int, section: str) -> ResponseReturnValue:
        """One more page of one section of the card ("Pokaż więcej"): rows only, or a page without JavaScript."""
        contact = _contact(contact_id)
        company_id = current_company_id()
        if section not in card_svc.sections_of(contact):
            abort(404)
        page = found(card_svc.section_page(company_id, contact.id, section, id_arg("page") or 1))
        context = {"contact": contact, "key": section, "section": page, **_card_labels()}
        if not request.args.get("partial"):
            return self.render_template("crm/_card_page.html", base=_base(contact.base_id), **context)
        response = make_response(self.render_template("crm/_card_rows.html", **context))
        response.headers["X-Card-Next"] = url_for(
            ".card_section", contact_id=contact.id, section=section, page=page.page + 1) if page.more else ""
        return response

    @expose("/<int:contact_id>/notes", methods=["POST"])
    @has_access
    def add_note(self, contact_id: int) -> ResponseReturnValue:
        """Add a note to the client's timeline (POST with CSRF); a refused note shows its reason."""
        contact = _contact(contact_id)
        form = NoteForm()
        if not form.validate_on_submit():
            abort(400)
        post_action(lambda: notes_svc.add_note(current_company_id(), g.user, contact.id, form.text.data),
                    gettext("Note added."))
        return redirect(url_for(".show", contact_id=contact.id, _anchor="card-notes"))

    @expose("/<int:contact_id>/notes/<int:note_id>/delete", methods=["POST"])
    @has_access
    def delete_note(self, contact_id: int, note_id: int) -> ResponseReturnValue:
        """Move one note of the timeline to the trash (POST with CSRF)."""
        contact = _contact(contact_id)
        company_id = current_company_id()
        note = found(notes_svc.get_note(company_id, contact.id, note_id))
        _confirmed()
        post_action(lambda: notes_svc.delete_note(company_id, note.id, g.user.id), gettext("Note moved to the trash."))
        return redirect(url_for(".show", contact_id=contact.id, _anchor="card-notes"))

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
        return self.render_template("crm/contact_form.html", form=form, base=base, kind=contact.kind, contact=contact,
                                    employer_label=employer_label(current_company_id(), base.id, form.employer_id.data))

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
        """Tag, untag or delete the ticked contacts or all matching the filter (POST with CSRF)."""
        _confirmed()
        company_id = current_company_id()
        action = request.form.get("action") or ""
        done = post_action(lambda: bulk_svc.start(
            company_id, g.user.id, action, request.form.getlist("ids"), request.form.get("tag_id"),
            _bulk_filter(), request.form.get("expected"),
        ))
        outcome = done.value
        if outcome is not None and outcome.job is not None:
            bulk_svc.start_in_background(outcome.job.id)
            return redirect(url_for(".bulk_job", job_id=outcome.job.id, next=_safe_next(request.form.get("next"))))
        if outcome is not None:
            flash(_bulk_message(outcome.action, outcome.count, outcome.changed), "success")
        return redirect(_safe_next(request.form.get("next")))

    @expose("/api/employers/<int:base_id>")
    @has_access
    def api_employers(self, base_id: int) -> ResponseReturnValue:
        """JSON for the "works for" picker of a person: ``[{id, label, detail}]``, companies of the base."""
        base = _base(base_id)
        items = svc.search_employers(current_company_id(), base.id, request.args.get("q", "")[:100])
        return jsonify([contact_item(c) for c in items])

    @expose("/bulk/<int:job_id>")
    @has_access
    def bulk_job(self, job_id: int) -> ResponseReturnValue:
        """A large bulk action running in the background: its progress bar and result."""
        job = found(bulk_svc.get_job(current_company_id(), job_id))
        tag = tags_svc.get_tag(current_company_id(), job.tag_id) if job.tag_id else None
        return self.render_template(
            "crm/contact_bulk_job.html", job=job, tag=tag, back=_safe_next(request.args.get("next")),
            done_label=_bulk_message(job.action, job.total, job.changed), title=gettext("Bulk action"),
        )

    @expose("/bulk/<int:job_id>/progress")
    @has_access
    def bulk_progress(self, job_id: int) -> ResponseReturnValue:
        """Progress of a background bulk action as JSON (polled by its page)."""
        job = found(bulk_svc.get_job(current_company_id(), job_id))
        return jsonify(id=job.id, status=job.status, finished=job.finished, percent=job.percent,
                       total=job.total, processed=job.processed, changed=job.changed)

    @expose("/api/pick")
    @has_access
    def api_pick(self) -> ResponseReturnValue:
        """JSON for as-you-type pickers in offers, invoices and tasks: never a mailing-base contact."""
        items = svc.search_pickable(current_company_id(), request.args.get("q", "")[:100], limit=20)
        return jsonify([
            {**contact_item(c), "name": c.name, "kind": c.kind, "base": c.base.name if c.base else None,
             "email": c.email, "nip": c.nip, "city": c.city}
            for c in items
        ])


def _form_id(name: str) -> int | None:
    """An optional id of the bulk form; a value that is not an id refuses the action (never widens it)."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    ident = inputs.to_id(raw)
    if ident is None:
        raise DomainError(_l("The list changed after you selected it. Check the selection and try again."))
    return ident


def _bulk_filter() -> bulk_svc.ListFilter | None:
    """The list's filter sent with "select all matching" (None when only the ticked rows count)."""
    if request.form.get("scope") != "all":
        return None
    return bulk_svc.ListFilter(base_id=_form_id("filter_base"), q=(request.form.get("filter_q") or "")[:100],
                               tag_id=_form_id("filter_tag"))


def _bulk_message(action: str, count: int, changed: int) -> str:
    """What a bulk action did, in words with the count."""
    if action == "delete":
        return ngettext("%(num)s contact moved to the trash.", "%(num)s contacts moved to the trash.", count)
    if action == "tag":
        return ngettext("Tag added to %(num)s contact.", "Tag added to %(num)s contacts.", changed)
    return ngettext("Tag removed from %(num)s contact.", "Tag removed from %(num)s contacts.", changed)


def _safe_next(target: str | None) -> str:
    """A local path to go back to after a bulk action (never another site)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("ClientBasesView.index")
