"""The platform (views): licences, backups, restores of deleted data, demo data.

Modules: admin, backups, restores. Import them as ``from app.views.platform import <module>``.
"""
