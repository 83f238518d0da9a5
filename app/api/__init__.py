"""The REST API: FAB's generated APIs of every CRM entity on the tenancy guard, its document and help page.

``register_apis`` is called by the composition root (``app/views/__init__.py``). Adding an entity
is one ``CrmModelApi`` declaration in ``resources.py`` and its entry in ``ENTITY_APIS``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder import AppBuilder

from app.api.docs import ApiDocsView, CrmOpenApi
from app.api.resources import ENTITY_APIS
from app.security.api_auth import rate_limit_key


def register_apis(appbuilder: AppBuilder, *extra_limited: type) -> None:
    """Register every entity API, the OpenAPI document and the help pages; rate-limit the APIs per token."""
    for api in ENTITY_APIS:
        appbuilder.add_api(api)
    appbuilder.add_api(CrmOpenApi)
    appbuilder.add_view_no_menu(ApiDocsView)
    limited = (*ENTITY_APIS, *extra_limited)
    for view in appbuilder.baseviews:
        if isinstance(view, limited):
            _limit(appbuilder, view)


def _limit(appbuilder: AppBuilder, view: Any) -> None:
    """Every call of ``view`` counts against the caller's token (API_RATE_LIMIT); over it: 429 + Retry-After."""
    appbuilder.sm.limiter.shared_limit(
        lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_limit_key
    )(view.blueprint)
