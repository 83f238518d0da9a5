"""The terms of service and the data-processing agreement: public pages, the owner's acceptance, the admin's editor."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l

from app.models.legal import KINDS
from app.services.platform import legal
from app.views.base import CrmView, form_action, post_action
from app.views.platform.plan_forms import LegalDraftForm, TermsAcceptForm


def safe_next(target: str | None) -> str:
    """A local path to go on to after accepting (never another site); the start page by default."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("DashboardIndexView.index")


class LegalView(CrmView):
    """The documents in force (and earlier versions), readable by anyone."""

    route_base = "/legal"

    @expose("/<kind>/")
    @expose("/<kind>/<int:version>/")
    def show(self, kind: str, version: int | None = None) -> ResponseReturnValue:
        """One document: the version in force, or an earlier one."""
        if kind not in KINDS:
            abort(404)
        doc = legal.current(kind) if version is None else legal.get_version(kind, version)
        if doc is None:
            abort(404)
        return self.render_template("crm/legal_document.html", doc=doc, kind_label=legal.KIND_LABELS[kind],
                                    title=legal.KIND_LABELS[kind])


class TermsAcceptView(CrmView):
    """The page an owner sees at sign-in when a new version of the documents waits for acceptance."""

    route_base = "/terms"

    @expose("/accept/")
    def index(self) -> ResponseReturnValue:
        """The new versions in full, with the acceptance form."""
        user = g.user
        if user is None or not user.is_authenticated or not user.is_owner or user.company_id is None:
            return redirect(url_for("DashboardIndexView.index"))
        docs = legal.pending_for(user.company_id)
        if not docs:
            return redirect(safe_next(request.args.get("next")))
        form = TermsAcceptForm(formdata=None, documents=",".join(str(d.id) for d in docs),
                               next=safe_next(request.args.get("next")))
        return self._page(form, docs)

    def _page(self, form: TermsAcceptForm, docs: list) -> ResponseReturnValue:
        return self.render_template("crm/terms_accept.html", form=form, docs=docs, kind_labels=legal.KIND_LABELS,
                                    title=_l("New terms to accept"))

    @expose("/accept/", methods=["POST"])
    def accept(self) -> ResponseReturnValue:
        """Record the owner's acceptance (who, when, from which IP) and go on."""
        user = g.user
        if user is None or not user.is_authenticated or not user.is_owner or user.company_id is None:
            return redirect(url_for("DashboardIndexView.index"))
        form = TermsAcceptForm()
        docs = legal.pending_for(user.company_id)
        if form.validate_on_submit():
            try:
                ids = [int(x) for x in (form.documents.data or "").split(",") if x]
            except ValueError:
                ids = []
            done = form_action(form, lambda: legal.accept(user.company_id, user, ids, request.remote_addr),
                               _l("Thank you, the documents are accepted."))
            if done.ok:
                return redirect(safe_next(form.next.data))
            docs = legal.pending_for(user.company_id)
            form.documents.data = ",".join(str(d.id) for d in docs)
        if not docs:
            return redirect(safe_next(form.next.data))
        return self._page(form, docs)


class AdminLegalView(CrmView):
    """The platform admin edits the texts and publishes a new version."""

    route_base = "/admin/legal"
    crm_section = "admin"
    class_permission_name = "AdminLegal"
    method_permission_name = {"index": "list", "edit": "edit", "publish": "edit", "discard": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Both documents: the version in force, the draft, the earlier versions."""
        docs = {kind: legal.versions(kind) for kind in KINDS}
        return self.render_template("admin/legal.html", docs=docs, kind_labels=legal.KIND_LABELS,
                                    title=_l("Terms and agreements"))

    @expose("/<kind>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, kind: str) -> ResponseReturnValue:
        """Edit the draft of the next version (started from the version in force)."""
        if kind not in KINDS:
            abort(404)
        source = legal.draft(kind) or legal.current(kind)
        form = LegalDraftForm(obj=source)
        if form.validate_on_submit():
            done = form_action(form, lambda: legal.save_draft(g.user, kind, form.title.data, form.body.data),
                               _l("The draft was saved. Publish it when it is ready."))
            if done.ok:
                return redirect(url_for(".index"))
        return self.render_template("admin/legal_form.html", form=form, kind=kind,
                                    kind_label=legal.KIND_LABELS[kind], draft=legal.draft(kind),
                                    title=legal.KIND_LABELS[kind])

    @expose("/<kind>/publish", methods=["POST"])
    @has_access
    def publish(self, kind: str) -> ResponseReturnValue:
        """Publish the draft: owners accept it at their next sign-in."""
        if kind not in KINDS:
            abort(404)
        done = post_action(lambda: legal.publish(g.user, kind))
        if done.ok and done.value is not None:
            flash(str(_l("Version %(version)s is in force; owners accept it at their next sign-in.",
                         version=done.value.version)), "success")
        return redirect(url_for(".index"))

    @expose("/<kind>/discard", methods=["POST"])
    @has_access
    def discard(self, kind: str) -> ResponseReturnValue:
        """Throw the draft away."""
        if kind not in KINDS:
            abort(404)
        post_action(lambda: legal.discard_draft(g.user, kind), _l("The draft was discarded."))
        return redirect(url_for(".index"))
