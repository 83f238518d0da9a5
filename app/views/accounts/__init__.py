"""Accounts (views): companies and sign-up, employees, sign-in security, sessions, passwords, audit log, NIP claims.

Modules: auth, employees, links, security, security_forms, settings, signup_forms. Import them as ``from app.views.accounts import <module>``.
"""
