"""Organising work: tasks, reminders, notifications, binders and their files.

Modules: attachments, binders, notifications, reminders, tasks. Import them as ``from app.services.work import <module>``.
"""
