"""The platform: licences, backups, restores of deleted data, demo data.

Modules: backups, demo, licences, restores. Import them as ``from app.services.platform import <module>``.
"""
