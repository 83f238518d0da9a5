"""The absolute links the account e-mails carry, built from a signed token (or an id)."""

from __future__ import annotations

from flask import url_for


def signup_confirm_link(token: str) -> str:
    """The link that confirms a sign-up."""
    return url_for("SignupView.confirm", token=token, _external=True)


def claim_confirm_link(token: str) -> str:
    """The link that confirms the e-mail address of a NIP claim."""
    return url_for("SignupView.claim_confirm", token=token, _external=True)


def admin_claim_link(claim_id: int) -> str:
    """The claim's page in the platform administration panel."""
    return url_for("AdminNipClaimsView.show", claim_id=claim_id, _external=True)


def invitation_link(token: str) -> str:
    """The link an invited person (or an approved claimant) sets a password through."""
    return url_for("InvitationView.accept", token=token, _external=True)


def reset_link(token: str) -> str:
    """The link that sets a new password once (password reset by e-mail)."""
    return url_for("PasswordResetView.reset", token=token, _external=True)
