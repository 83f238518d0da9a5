"""CSV import (upload, mapping with preview, progress), CSV/XLSX export and duplicate merging."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import (
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional as OptionalV

from app.models.contact_io import ImportJob
from app.models.contacts import Contact
from app.services import inputs
from app.services.contacts import bases as bases_svc
from app.services.contacts import contact_export as export_svc
from app.services.contacts import contact_import as import_svc
from app.services.contacts import duplicates as dup_svc
from app.services.contacts import tags as tags_svc
from app.services.contacts.search import SearchQuery, parse_query
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found, post_action
from app.views.forms import ConfirmForm

ENCODING_CHOICES = [("auto", _l("Detect automatically")), ("utf-8", "UTF-8"), ("cp1250", "Windows-1250")]
DELIMITER_CHOICES = [("auto", _l("Detect automatically")), (";", _l("Semicolon ;")), (",", _l("Comma ,"))]
DUPLICATE_CHOICES = [
    ("skip", _l("Skip the row (keep the existing contact)")),
    ("update", _l("Update the existing contact with the file's values")),
    ("import", _l("Import anyway as a new contact")),
]
KIND_CHOICES = [("company", _l("Companies")), ("person", _l("Persons"))]


class UploadForm(FlaskForm):
    """Step 1: the file, the target base, encoding and separator."""

    base_id = SelectField(_l("Client base"), coerce=str, choices=[])
    file = FileField(_l("CSV file"))
    encoding = SelectField(_l("Encoding"), choices=ENCODING_CHOICES, default="auto")
    delimiter = SelectField(_l("Separator"), choices=DELIMITER_CHOICES, default="auto")


class MappingForm(FlaskForm):
    """Step 2: what each column is, what to do with duplicates, consent for mailing bases."""

    duplicates = RadioField(_l("Contacts that already exist (same NIP or e-mail)"), choices=DUPLICATE_CHOICES, default="skip")
    default_kind = RadioField(_l("Rows without a type column are"), choices=KIND_CHOICES, default="company")
    consent_source = StringField(_l("Consent source"), validators=[OptionalV(), Length(max=200)])
    consent_text = TextAreaField(_l("Consent text"), validators=[OptionalV(), Length(max=5000)])
    #: holds a refused column mapping (the columns are ``col_<i>`` inputs of the page)
    mapping = HiddenField()


def _field_choices() -> list[tuple[str, Any]]:
    """The choices of every column's dropdown: "do not import" and each contact field."""
    return [("", _l("— do not import —"))] + [(k, label) for k, label in import_svc.FIELDS.items()]


def _int_arg(*names: str) -> int | None:
    """The first of ``names`` given in the query string as an id; 404 when it is not a valid id."""
    for name in names:
        value = (request.args.get(name) or "").strip()
        if value:
            ident = inputs.to_id(value)
            if ident is None:
                abort(404)
            return ident
    return None


class ContactImportView(CrmView):
    """"Import CSV": upload, column mapping with a preview, background run with a progress bar."""

    route_base = "/contacts/import"
    crm_section = "clients"
    class_permission_name = "ContactImport"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "import", "mapping": "import", "show": "import", "progress": "import", "report": "import",
    }

    @staticmethod
    def _job(job_id: int) -> ImportJob:
        """An import of the signed-in company, or 404."""
        return found(import_svc.get_job(current_company_id(), job_id))

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> ResponseReturnValue:
        """Upload a CSV file into a base (and list the latest imports)."""
        company_id = current_company_id()
        form = UploadForm()
        bases = bases_svc.company_bases(company_id)
        form.base_id.choices = [(str(b.id), b.name) for b in bases]
        if request.method == "GET" and request.args.get("base_id"):
            form.base_id.data = request.args["base_id"]
        if form.validate_on_submit():
            done = form_action(form, lambda: import_svc.create_draft(
                company_id, g.user.id, form.base_id.data, file_bytes(form.file),
                getattr(form.file.data, "filename", "") or "", form.encoding.data, form.delimiter.data,
            ))
            if done.ok and done.value is not None:
                return redirect(url_for(".mapping", job_id=done.value.id))
        return self.render_template(
            "contacts_io/upload.html", form=form, bases=bases, jobs=import_svc.recent_jobs(company_id),
            title=gettext("Import contacts from CSV"),
        )

    @expose("/<int:job_id>/mapping", methods=["GET", "POST"])
    @has_access
    def mapping(self, job_id: int) -> ResponseReturnValue:
        """Preview the first rows, map the columns to contact fields, start the import."""
        job = self._job(job_id)
        if job.status != "draft":
            return redirect(url_for(".show", job_id=job.id))
        base = found(bases_svc.get_base(current_company_id(), job.base_id))
        pre = post_action(lambda: import_svc.preview(job))
        if not pre.ok or pre.value is None:
            return redirect(url_for(".index"))
        preview = pre.value
        form = MappingForm()
        mapping = dict(preview.mapping)
        if request.method == "GET":
            form.default_kind.data = import_svc.guess_kind(current_company_id(), base, mapping)
        if request.method == "POST":
            mapping = {str(i): request.form.get(f"col_{i}", "") for i in range(len(preview.headers))}
        if form.validate_on_submit():
            options = import_svc.ImportOptions(
                duplicates=form.duplicates.data, default_kind=form.default_kind.data,
                consent_source=form.consent_source.data, consent_text=form.consent_text.data,
            )
            if form_action(form, lambda: import_svc.queue(current_company_id(), job.id, mapping, options)).ok:
                import_svc.start_in_background(job.id)
                return redirect(url_for(".show", job_id=job.id))
        return self.render_template(
            "contacts_io/mapping.html", job=job, base=base, preview=preview, form=form, mapping=mapping,
            choices=_field_choices(), error=next(iter(form.mapping.errors), None), encodings=import_svc.ENCODINGS,
            title=gettext("Import contacts from CSV"),
        )

    @expose("/<int:job_id>")
    @has_access
    def show(self, job_id: int) -> ResponseReturnValue:
        """The import's progress bar and, when finished, its results and report."""
        job = self._job(job_id)
        if job.status == "draft":
            return redirect(url_for(".mapping", job_id=job.id))
        base = bases_svc.get_base(current_company_id(), job.base_id)
        return self.render_template(
            "contacts_io/job.html", job=job, base=base, outcome=import_svc.outcome(job),
            reasons=import_svc.reasons(job), title=gettext("Import contacts from CSV"),
        )

    @expose("/<int:job_id>/progress")
    @has_access
    def progress(self, job_id: int) -> ResponseReturnValue:
        """Progress of the import as JSON (polled by the page's progress bar)."""
        job = self._job(job_id)
        return jsonify(
            id=job.id, status=job.status, finished=job.finished, percent=job.percent, total=job.total,
            processed=job.processed, inserted=job.inserted, updated=job.updated, skipped=job.skipped,
            refused=job.refused, report_url=url_for(".report", job_id=job.id) if job.report else None,
            error=gettext("The import failed. Please check the file and try again.") if job.status == "failed" else None,
        )

    @expose("/<int:job_id>/report.csv")
    @has_access
    def report(self, job_id: int) -> ResponseReturnValue:
        """Download the refused and skipped rows with the reasons (CSV for Excel)."""
        job = self._job(job_id)
        if not job.report:
            abort(404)
        resp = Response(job.report, mimetype="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="import-{job.id}-raport.csv"'
        return resp


class ContactExportView(CrmView):
    """Export of the current filtered contact list (base, search text, tag) as CSV or XLSX."""

    route_base = "/contacts/export"
    crm_section = "clients"
    class_permission_name = "ContactExport"
    method_permission_name: ClassVar[dict[str, str]] = {"csv": "export", "xlsx": "export"}

    @staticmethod
    def _filters() -> tuple[int, int | None, SearchQuery | None, int | None, str | None]:
        """The list's filters from the query string (parsed once); 404 for a foreign base or tag."""
        company_id = current_company_id()
        base_id = _int_arg("base_id", "base")
        tag_id = _int_arg("tag_id", "tag")
        base_name = found(bases_svc.get_base(company_id, base_id)).name if base_id is not None else None
        if tag_id is not None:
            found(tags_svc.get_tag(company_id, tag_id))
        query = parse_query((request.args.get("q") or "").strip()[:100])
        return company_id, base_id, query, tag_id, base_name

    @expose("/csv")
    @has_access
    def csv(self) -> ResponseReturnValue:
        """The filtered list as CSV: UTF-8 with BOM and semicolons (Excel opens it directly)."""
        company_id, base_id, q, tag_id, base_name = self._filters()
        body = stream_with_context(export_svc.csv_chunks(company_id, base_id, q, tag_id))
        resp = Response(body, mimetype="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="{export_svc.filename(base_name, "csv")}"'
        return resp

    @expose("/xlsx")
    @has_access
    def xlsx(self) -> ResponseReturnValue:
        """The filtered list as an Excel workbook."""
        company_id, base_id, q, tag_id, base_name = self._filters()
        data = export_svc.export_xlsx(company_id, base_id, q, tag_id)
        resp = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp.headers["Content-Disposition"] = f'attachment; filename="{export_svc.filename(base_name, "xlsx")}"'
        return resp


class DuplicatesView(CrmView):
    """"Duplikaty": groups of probable duplicate contacts, merged with one click."""

    route_base = "/contacts/duplicates"
    crm_section = "clients"
    class_permission_name = "ContactDuplicates"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "merge": "merge"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Groups of contacts with the same NIP, the same e-mail or a similar name."""
        company_id = current_company_id()
        kind = request.args.get("kind") or "contacts"
        if kind not in ("contacts", "mailing"):
            kind = "contacts"
        base_id = _int_arg("base_id", "base")
        if base_id is not None:
            kind = found(bases_svc.get_base(company_id, base_id)).kind
        groups = dup_svc.find_groups(company_id, kind=kind, base_id=base_id)
        return self.render_template(
            "contacts_io/duplicates.html", groups=groups, kind=kind, base_id=base_id, confirm=ConfirmForm(),
            kind_labels=bases_svc.BASE_KIND_LABELS, title=gettext("Duplicate contacts"),
        )

    @expose("/merge", methods=["POST"])
    @has_access
    def merge(self) -> ResponseReturnValue:
        """Merge the chosen contacts into the kept one (POST with CSRF)."""
        form = ConfirmForm()
        back = url_for(".index", kind=request.form.get("kind") or None)
        if not form.validate_on_submit():
            flash(gettext("The form has expired or was sent from elsewhere. Please try again."), "danger")
            return redirect(back)
        done = post_action(lambda: _merge_or_404(current_company_id(), request.form.get("keep"),
                                                 request.form.getlist("merge"), g.user.id))
        if done.ok and done.value is not None:
            flash(gettext("Contacts merged into %(name)s.", name=done.value.name), "success")
        return redirect(back)


def _merge_or_404(company_id: int, keep_id: Any, merge_ids: list[Any], user_id: int) -> Contact:
    """Run the merge; an id that is not a live contact of the company answers 404 (not a message)."""
    try:
        return dup_svc.merge(company_id, keep_id, merge_ids, user_id)
    except dup_svc.ContactNotFound:
        abort(404)
