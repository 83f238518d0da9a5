"""Accounts: companies and sign-up, employees, sign-in security, sessions, passwords, audit log, NIP claims.

Modules: audit, companies, employees, nip_claims, passwords, security, sessions, signups. Import them as ``from app.services.accounts import <module>``.
"""
