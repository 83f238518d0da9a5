"""Accounts: companies and sign-up, employees, sign-in security, sessions, passwords, audit log, NIP claims.

Modules: audit, companies, employees, lockout, nip_claims, password_change, password_reset, passwords,
security_policy, sessions, signin, signups, two_factor. Import them as ``from app.services.accounts import <module>``.
"""
