"""Client bases and contacts (views): bases, contact rules, search, tags, CSV import/export, duplicates.

Modules: contact_io, contacts, contacts_forms, tags. Import them as ``from app.views.contacts.contacts import <module>``.
"""
