"""Sync roles and permissions from code (roles.py) into FAB's tables, idempotently."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.security import roles


def _view_permissions(appbuilder: AppBuilder) -> dict[str, set[tuple[str, str]]]:
    """Permission pairs (action, view) per class permission name, plus menu access."""
    by_view: dict[str, set[tuple[str, str]]] = {}
    for view in appbuilder.baseviews:
        name = view.class_permission_name
        perms = {(p, name) for p in (view.base_permissions or [])}
        by_view.setdefault(name, set()).update(perms)
    for view in appbuilder.baseviews:
        for menu_name in getattr(view, "crm_menu_names", ()):
            by_view.setdefault(view.class_permission_name, set()).add(("menu_access", menu_name))
    return by_view


def sync_roles(appbuilder: AppBuilder) -> dict[str, int]:
    """Create every permission and set each role's permissions to exactly what roles.py says."""
    sm = appbuilder.sm
    for role_name in (*roles.ROLE_VIEWS, sm.auth_role_public):
        if not sm.find_role(role_name):
            sm.add_role(role_name)
    appbuilder.add_permissions(update_perms=True)
    by_view = _view_permissions(appbuilder)
    result = {}
    for role_name, views in roles.ROLE_VIEWS.items():
        role = sm.find_role(role_name)
        wanted = set()
        for view_name in views:
            wanted |= by_view.get(view_name, set())
        pvs = []
        for action, view_name in sorted(wanted):
            pv = sm.find_permission_view_menu(action, view_name) or sm.add_permission_view_menu(action, view_name)
            pvs.append(pv)
        role.permissions = pvs
        result[role_name] = len(pvs)
    sm.session.commit()
    return result
