"""Secrets at rest: Fernet encryption with the application key ``CRM_FERNET_KEY``.

Used for the two-step sign-in secrets and the company mailbox passwords. ``decrypt`` raises
``cryptography.fernet.InvalidToken`` when a value cannot be read (another key, damaged data); the
caller turns that into its own message.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

__all__ = ["InvalidToken", "decrypt", "encrypt"]


def _fernet() -> Fernet:
    key = current_app.config.get("CRM_FERNET_KEY")
    if not key:
        raise RuntimeError("CRM_FERNET_KEY must be set in the environment")
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(value: str) -> str:
    """Encrypt a secret for the database."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Decrypt a secret stored by ``encrypt`` (raises InvalidToken when it cannot be read)."""
    return _fernet().decrypt(value.encode()).decode()
