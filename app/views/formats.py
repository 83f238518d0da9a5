"""Jinja filters that show values the Polish way (the helpers live in app.services.formats)."""

from __future__ import annotations

from flask import Flask

from app.services import formats

#: filter name -> helper; templates write ``{{ task.created_at | crm_datetime }}``
FILTERS = {
    "crm_datetime": formats.local_datetime,
    "crm_date": formats.local_date,
    "crm_size": formats.file_size,
    "crm_phone": formats.phone,
}


def register_formats(app: Flask) -> None:
    """Install the display filters: Warsaw time, dates, file sizes and phone numbers."""
    app.jinja_env.filters.update(FILTERS)
