"""Client bases and contacts (views): bases, contacts, search, tags, CSV import/export, duplicates.

Modules: contacts, contacts_forms, contact_io, tags. Import them as ``from app.views.contacts import <module>``.
"""
