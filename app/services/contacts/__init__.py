"""Client bases and contacts: bases, contact rules, search, tags, CSV import/export, duplicates.

Modules: contact_export, contact_import, contacts, duplicates, tags. Import them as ``from app.services.contacts.contacts import <module>``.
"""
