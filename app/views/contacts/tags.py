"""The "Tagi" settings tab: list, add, edit (click the name or the edit button), delete."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

from app.services.contacts import tags as svc
from app.services.dictionaries import Dictionary
from app.views.dictionaries import DictionaryView


class TagsView(DictionaryView):
    """Coloured tags for contacts."""

    route_base = "/settings/tags"
    class_permission_name = "Tags"
    spec: ClassVar[Dictionary] = svc.TAGS
    dom, dom_plural, icon = "tag", "tags", "fa-tags"
    texts: ClassVar[dict[str, Any]] = {
        "title": _l("Tags"),
        "add": _l("Add a new tag"),
        "edit": _l("Edit tag"),
        "empty_text": _l('No tags yet. Tags mark contacts, e.g. "VIP" or "Hurtownia".'),
        "confirm_delete": _l("Delete this tag?"),
        "added": _l("Tag %(name)s added."),
        "saved": _l("Changes saved."),
        "deleted": _l("Tag %(name)s deleted."),
    }
