"""The REST API: FAB's generated APIs of every CRM entity on the tenancy guard, its document and help page.

``register_apis`` is called by the composition root (``app/views/__init__.py``). Adding an entity
is one ``CrmModelApi`` declaration in ``resources.py`` and its entry in ``ENTITY_APIS``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder import AppBuilder
from flask_appbuilder.api import BaseApi

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
    _share_permissions(appbuilder, (*ENTITY_APIS, CrmOpenApi))


def _share_permissions(appbuilder: AppBuilder, apis: tuple[type[BaseApi], ...]) -> None:
    """An API declares the whole permission set of the app's view it shares a name with.

    FAB's permission sync (``add_permissions(update_perms=True)``) removes, for each view, the
    permissions of its name the view does not declare: a read-only API named "Offers" would take
    "add"/"edit"/"delete" away from the app's Offers view. The API's own checks are unchanged
    (its methods map to the same permissions, see ``app/api/base.py``).
    """
    by_name: dict[str, set[str]] = {}
    views: list[Any] = list(appbuilder.baseviews)
    for view in views:
        if not isinstance(view, apis):
            by_name.setdefault(view.class_permission_name, set()).update(view.base_permissions or ())
    for view in views:
        if isinstance(view, apis) and view.class_permission_name in by_name:
            view.base_permissions = sorted(set(view.base_permissions or ()) | by_name[view.class_permission_name])


def _limit(appbuilder: AppBuilder, view: Any) -> None:
    """Every call of ``view`` counts against the caller's token (API_RATE_LIMIT); over it: 429 + Retry-After."""
    appbuilder.sm.limiter.shared_limit(
        lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_limit_key
    )(view.blueprint)
