"""Client bases and contacts: bases, contact rules, search, tags, CSV import/export, duplicates.

Modules: bases, contacts, search, tags, contact_import, contact_export, duplicates. Import them as
``from app.services.contacts import <module>``.
"""
