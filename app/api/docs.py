"""The OpenAPI document (/api/v1/_openapi), Swagger UI (/api/docs/) and the "API" help page.

Swagger UI's files come with Flask-AppBuilder (``appbuilder.static``), so nothing is loaded from
the internet. The document is FAB's, with the security schemes of our tokens, Polish titles and
the tags in Polish.
"""

from __future__ import annotations

from typing import Any, ClassVar

from apispec import APISpec
from flask import request
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.api.manager import OpenApi
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.api.base import CrmApiMixin
from app.extensions import appbuilder
from app.views.base import CrmView

#: the OpenAPI tags of the entity APIs, in Polish
TAG_LABELS = {
    "Client bases": _l("Client bases"),
    "Contacts": _l("Contacts"),
    "Tags": _l("Tags"),
    "Task categories": _l("Task categories"),
    "Tasks": _l("Tasks"),
    "Binders": _l("Binders"),
    "Products": _l("Products"),
    "Offers": _l("Offers"),
    "Orders": _l("Orders"),
    "Invoices": _l("Invoices"),
    "Purchase invoices": _l("Purchase invoices"),
    "Mailboxes": _l("Mailboxes"),
    "Campaigns": _l("Campaigns"),
    "Auth": _l("Sign-in"),
    "MeApi": _l("Profile"),
    "Menu": _l("Menu"),
}
#: the summaries of the hand-written operations, in Polish
SUMMARY_LABELS = {
    "Files of a binder": _l("Files of a binder"),
    "Add a file to a binder": _l("Add a file to a binder"),
    "Download a file": _l("Download a file"),
    "PDF of the offer": _l("PDF of the offer"),
    "PDF of the order": _l("PDF of the order"),
    "PDF of the invoice": _l("PDF of the invoice"),
    "FA(3) XML of the invoice": _l("FA(3) XML of the invoice"),
    "UPO of the invoice": _l("UPO of the invoice"),
    "XML of the purchase invoice": _l("XML of the purchase invoice"),
}


def polish_document(spec: dict[str, Any]) -> dict[str, Any]:
    """Tags in Polish, the security schemes of personal tokens and JWTs, a Polish description."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if operation.get("tags"):
                operation["tags"] = [str(TAG_LABELS.get(t, t)) for t in operation["tags"]]
            if operation.get("summary") in SUMMARY_LABELS:
                operation["summary"] = str(SUMMARY_LABELS[operation["summary"]])
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update({
        "api_key": {"type": "http", "scheme": "bearer", "bearerFormat": "kl_…",
                    "description": gettext("Personal API token from the profile (Tokeny API).")},
        "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": gettext("Access token from POST /api/v1/auth/token.")},
    })
    spec["info"] = {
        "title": gettext("Klientela API"),
        "version": spec.get("info", {}).get("version", "v1"),
        "description": gettext(
            "The CRM's data of your company. Send the token in the header "
            "Authorization: Bearer <token>. Errors are JSON with a code and a message."
        ),
    }
    return spec


class CrmOpenApi(CrmApiMixin, OpenApi):
    """GET /api/v1/_openapi: the OpenAPI document of every API of this version."""

    class_permission_name = "ApiDocs"
    method_permission_name: ClassVar[dict[str, str]] = {"get": "read"}
    allow_browser_login = True

    @expose("/<version>/_openapi")
    @protect()
    @safe
    def get(self, version: str) -> ResponseReturnValue:
        """The OpenAPI document of one API version (e.g. v1)."""
        api_spec = self._create_api_spec(version)
        found = False
        for base_api in appbuilder.baseviews:
            if isinstance(base_api, BaseApi) and base_api.version == version and not isinstance(base_api, OpenApi):
                base_api.add_api_spec(api_spec)
                found = True
        if not found:
            return self.response_404()
        return self.response(200, **polish_document(api_spec.to_dict()))

    @staticmethod
    def _create_api_spec(version: str) -> APISpec:
        """FAB's document, served from this host."""
        spec = OpenApi._create_api_spec(version)
        spec.options["servers"] = [{"url": request.host_url.rstrip("/")}]
        return spec


class ApiDocsView(CrmView):
    """The "API" help page (how to make a token, a first curl) and Swagger UI, served locally."""

    route_base = "/api-help"
    crm_section = "settings"
    class_permission_name = "ApiDocs"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "read", "swagger": "read"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """How to use the API: make a token, send it, a first call, where the document is."""
        return self.render_template("api/help.html", base_url=request.host_url.rstrip("/"))

    @expose("/swagger")
    @has_access
    def swagger(self) -> ResponseReturnValue:
        """Swagger UI over the OpenAPI document (files from Flask-AppBuilder, no CDN)."""
        return self.render_template("api/swagger.html", openapi_uri=request.script_root + "/api/v1/_openapi")
