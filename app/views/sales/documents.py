"""What the offer and order pages share: the list, the builder ("Nowa ..."/"Edycja"), the page of
one document, its status buttons and delete, and the PDF download.

A section is a subclass of ``SalesDocumentView`` naming its ``DocumentKind`` (service calls,
statuses, templates and texts) and adding the pages that are its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Response, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_wtf import FlaskForm

from app.services.sales import pricing, sales_pdf
from app.services.sales.documents import Document, preselected_client
from app.services.work import binders as binders_svc
from app.views import pickers
from app.views.base import CrmView, Outcome, current_company_id, form_action, found, id_arg, post_action
from app.views.forms import ConfirmForm
from app.views.sales.sales_forms import items_for_form, items_of, read_items, vat_choices


@dataclass(frozen=True)
class DocumentKind:
    """One kind of sales document as its pages see it: service calls, statuses, templates, texts.

    Texts are lazy strings formatted with ``number`` and ``v`` (the version).
    """

    folder: str                                              # templates: <folder>/list.html, form.html, show.html
    statuses: tuple[str, ...]
    status_labels: Mapping[str, Any]
    transitions: Mapping[str, tuple[str, ...]]
    editable: tuple[str, ...]
    get: Callable[[int, int], Document | None]                # (company_id, id)
    listing: Callable[[int, str, str], Sequence[Document]]    # (company_id, q, status)
    create: Callable[[int, int | None, Any], Document]        # (company_id, user_id, data)
    update: Callable[[int, int | None, int, Any], Document]   # (company_id, user_id, id, data)
    set_status: Callable[[int, int, str], Document]           # (company_id, id, status)
    delete: Callable[[int, int | None, int], str]            # (company_id, user_id, id)
    texts: Mapping[str, Any]                                 # added, saved, locked, deleted


def pdf_response(filename: str, data: bytes, inline: bool = True) -> Response:
    """A PDF download (inline in the browser by default), never cached."""
    disposition = "inline" if inline else "attachment"
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def pdf_or_404(found_pdf: tuple[str, bytes] | None) -> Response:
    """The PDF (inline unless ``?download=1``), or 404 when it is missing."""
    filename, data = found(found_pdf)
    return pdf_response(filename, data, inline=request.args.get("download") != "1")


def prefill_from_document(form: FlaskForm, doc: Document) -> None:
    """The edit form of a saved offer or order: its client, binder and dates as the inputs show them."""
    form.contact_id.data, form.contact_label.data = str(doc.contact_id), doc.contact.name if doc.contact else ""
    form.binder_id.data = str(doc.binder_id or "")
    for name in ("valid_until", "reminder_on", "due_date"):
        if name in form:
            value = getattr(doc, name)
            form[name].data = value.isoformat() if value else ""


def prefill_from_binder(form: FlaskForm, company_id: int) -> None:
    """"Nowa oferta"/"Nowe zlecenie" opened from a binder: that binder and its client are chosen."""
    binder_id = id_arg("binder_id")
    binder = binders_svc.get_binder(company_id, binder_id) if binder_id is not None else None
    if binder is None:
        return
    form.binder_id.data = str(binder.id)
    contact = preselected_client(company_id, binder.contact_id) if binder.contact_id else None
    if contact is not None:
        form.contact_id.data, form.contact_label.data = str(contact.id), contact.name


class SalesDocumentView(CrmView):
    """List, builder, page, status and delete of one kind of sales document."""

    kind: ClassVar[DocumentKind]

    # --- what a section declares or refines -------------------------------------------------

    def _form(self, company_id: int, doc: Document | None = None) -> FlaskForm:
        """The builder's form (header fields) with the company's binders."""
        raise NotImplementedError

    def _data(self, form: FlaskForm) -> Any:
        """The service's data object from the submitted builder."""
        raise NotImplementedError

    def _prefill_new(self, form: FlaskForm, company_id: int) -> None:
        """A new document opened from a binder starts in that binder, with its client."""
        prefill_from_binder(form, company_id)

    def _show_context(self, doc: Document) -> dict[str, Any]:
        """What the page of one document needs besides what every document page has."""
        return {}

    # --- shared pieces -------------------------------------------------------------------------

    def _found(self, company_id: int, doc_id: int) -> Document:
        """One live document of the company, or 404 (missing, deleted or another company's)."""
        # mypy solves found()'s type variable to the models' common base, not to the union
        return found(self.kind.get(company_id, doc_id))  # type: ignore[return-value]

    def _text(self, key: str, doc: Document) -> str:
        return str(self.kind.texts[key]) % {"number": doc.number, "v": doc.version}

    def _to_show(self, doc: Document) -> ResponseReturnValue:
        return redirect(url_for(".show", doc_id=doc.id))

    def _builder(self, form: FlaskForm, items: list[dict[str, str]], doc: Document | None = None) -> str:
        binder_label = pickers.binder_label(current_company_id(), form.binder_id.data)
        return self.render_template(f"{self.kind.folder}/form.html", form=form, items=items, doc=doc,
                                    vat_choices=vat_choices(), rates=pricing.RATE_PERCENT, binder_label=binder_label)

    def _submit(self, form: FlaskForm, save: Callable[[], Document]) -> tuple[Outcome[Document], list[dict[str, str]] | None]:
        """A valid POST of the builder: what the save came to, and the posted lines to show again."""
        if not form.validate_on_submit():
            return Outcome(False), None
        return form_action(form, save), items_for_form(read_items(request.form))

    # --- pages -----------------------------------------------------------------------------------

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """All documents of the company, newest first, with search and a status filter."""
        q = (request.args.get("q") or "").strip()[:100]
        status = request.args.get("status") or ""
        return self.render_template(
            f"{self.kind.folder}/list.html", docs=self.kind.listing(current_company_id(), q, status), q=q,
            status=status, statuses=self.kind.statuses, status_labels=self.kind.status_labels,
            money=pricing.format_money,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Nowa ...": client, items from the price list; "Zapisz" saves it and prints its PDF."""
        company_id = current_company_id()
        form = self._form(company_id)
        if request.method == "GET":
            self._prefill_new(form, company_id)
        done, posted = self._submit(form, lambda: self.kind.create(company_id, g.user.id, self._data(form)))
        if done.ok and done.value is not None:
            flash(self._text("added", done.value), "success")
            return self._to_show(done.value)
        return self._builder(form, posted or [])

    @expose("/<int:doc_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, doc_id: int) -> ResponseReturnValue:
        """"Edycja": "Zapisz" prints a new PDF; earlier ones stay in the attachments."""
        company_id = current_company_id()
        doc = self._found(company_id, doc_id)
        if doc.status not in self.kind.editable:
            flash(str(self.kind.texts["locked"]), "danger")
            return self._to_show(doc)
        form = self._form(company_id, doc)
        if request.method == "GET":
            prefill_from_document(form, doc)
        done, posted = self._submit(form, lambda: self.kind.update(company_id, g.user.id, doc.id, self._data(form)))
        if done.ok:
            flash(self._text("saved", doc), "success")
            return self._to_show(doc)
        return self._builder(form, posted if posted is not None else items_for_form(items_of(doc)), doc)

    @expose("/<int:doc_id>")
    @has_access
    def show(self, doc_id: int) -> ResponseReturnValue:
        """A document: client, lines, totals per VAT rate, PDF, status buttons."""
        doc = self._found(current_company_id(), doc_id)
        return self.render_template(
            f"{self.kind.folder}/show.html", doc=doc, totals=sales_pdf.document_totals(doc),
            words=pricing.amount_in_words(doc.total_gross, doc.currency),
            money=pricing.format_money, qty=pricing.format_quantity, vat_label=pricing.vat_label,
            status_labels=self.kind.status_labels, transitions=self.kind.transitions.get(doc.status, ()),
            editable=doc.status in self.kind.editable, confirm=ConfirmForm(), **self._show_context(doc),
        )

    @expose("/<int:doc_id>/status", methods=["POST"])
    @has_access
    def status(self, doc_id: int) -> ResponseReturnValue:
        """Move a document to another status (POST with CSRF)."""
        company_id = current_company_id()
        doc = self._found(company_id, doc_id)
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: self.kind.set_status(company_id, doc.id, request.form.get("status", "")))
            if done.ok:
                flash(gettext("Status changed: %(status)s.", status=self.kind.status_labels[doc.status]), "success")
        return self._to_show(doc)

    @expose("/<int:doc_id>/delete", methods=["POST"])
    @has_access
    def delete(self, doc_id: int) -> ResponseReturnValue:
        """Move a document and its PDFs to the trash (POST with CSRF)."""
        company_id = current_company_id()
        doc = self._found(company_id, doc_id)
        if not ConfirmForm().validate_on_submit():
            return self._to_show(doc)
        if post_action(lambda: self.kind.delete(company_id, g.user.id, doc.id), self._text("deleted", doc)).ok:
            return redirect(url_for(".index"))
        return self._to_show(doc)

