"""Organising work (views): tasks, reminders, notifications, binders and their files.

Modules: binders, notifications, tasks. Import them as ``from app.views.work import <module>``.
"""
