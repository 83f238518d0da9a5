"""Helpers for campaign tests: a mailing base with contacts who are real mailboxes, an active company mailbox."""

from __future__ import annotations

import secrets as secrets_mod
from dataclasses import dataclass, field
from typing import Any

from app.extensions import db
from app.models.contacts import Contact
from app.models.mailing import Mailbox
from app.security.tenancy import tenant_scope
from app.services import secrets
from app.services.contacts import tags
from tests.integration.contacts_data import CONSENT, make_base, make_contact, make_tag


@dataclass
class Setup:
    """What a campaign test works with."""

    company_id: int
    base_id: int
    mailbox_id: int
    sender: Any
    #: mail users on the test servers who should get the campaign, by first name
    people: dict[str, Any] = field(default_factory=dict)
    contact_ids: dict[str, int] = field(default_factory=dict)


def new_user(servers: Any, prefix: str) -> Any:
    """A fresh mailbox on the test servers with an address the contact form accepts."""
    return servers.add_user(f"{prefix}-{secrets_mod.token_hex(4)}@hurtownia-zolw.pl")


def make_mailbox(app: Any, servers: Any, company_id: int, rate: int = 0, cap: int = 0) -> tuple[int, Any]:
    """An active mailbox of the company on the test servers (STARTTLS SMTP, IMAPS); (id, mail user)."""
    user = new_user(servers, "biuro")
    with app.app_context(), tenant_scope(company_id):
        box = Mailbox(company_id=company_id, email=user.email, sender_name="Hurtownia Żółw", smtp_host="127.0.0.1",
                      smtp_port=servers.smtp_port, smtp_security="starttls", imap_host="127.0.0.1",
                      imap_port=servers.imaps_port, imap_security="ssl", login=user.email,
                      password_encrypted=secrets.encrypt(user.password), state="active",
                      rate_per_minute=rate, daily_cap=cap)
        db.session.add(box)
        db.session.commit()
        box_id = box.id
        db.session.remove()
    return box_id, user


def person(app: Any, company_id: int, base_id: int, first: str, last: str, email: str | None,
           consent: bool = True, employer_id: int | None = None) -> int:
    """A person contact of a base (with a recorded consent unless ``consent`` is False)."""
    if email is None or not consent:  # the form asks a mailing contact for both: only old data lacks them
        return raw_contact(app, company_id, base_id, "person", f"{first} {last}", email, first, last)
    extra = CONSENT if consent else {}
    return make_contact(app, company_id, base_id, kind="person", first_name=first, last_name=last, email=email,
                        employer_id=employer_id, **extra)


def raw_contact(app: Any, company_id: int, base_id: int, kind: str, name: str, email: str | None,
                first: str | None = None, last: str | None = None) -> int:
    """A contact written directly (as an old import could have left it: no e-mail, no consent)."""
    with app.app_context(), tenant_scope(company_id):
        contact = Contact(company_id=company_id, base_id=base_id, kind=kind, name=name, name_sort=name.lower(),
                          first_name=first, last_name=last, email=email)
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
        db.session.remove()
    return contact_id


def tag_contact(app: Any, company_id: int, contact_id: int, tag_id: int) -> None:
    """Give a contact a tag."""
    with app.app_context(), tenant_scope(company_id):
        tags.set_contact_tags(company_id, contact_id, [tag_id])
        db.session.remove()


def setup_company(app: Any, servers: Any, company_id: int, names: tuple[str, ...] = ("Zofia", "Łukasz"),
                  rate: int = 0, cap: int = 0) -> Setup:
    """A mailing base whose people (each a real mailbox) agreed to e-mails, and an active mailbox."""
    base_id = make_base(app, company_id, "Newsletter", "mailing")
    employer = raw_contact(app, company_id, base_id, "company", "Żabka Sp. z o.o.", None)
    box_id, sender = make_mailbox(app, servers, company_id, rate, cap)
    setup = Setup(company_id, base_id, box_id, sender)
    for i, first in enumerate(names):
        user = new_user(servers, "klient")
        setup.people[first] = user
        setup.contact_ids[first] = person(app, company_id, base_id, first, f"Nowak{i}", user.email,
                                          employer_id=employer)
    return setup


__all__ = ["CONSENT", "Setup", "make_base", "make_contact", "make_mailbox", "make_tag", "person", "setup_company",
           "tag_contact"]
