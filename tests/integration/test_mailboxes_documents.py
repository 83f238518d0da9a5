"""Offers and invoices e-mailed from a verified company mailbox chosen by the user (issue 12, point 8),
against the real test mail servers: PDF attached, the message recorded on the document, only active
mailboxes offered, the platform's SMTP server never used, another company's mailbox refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.mailing import DocumentEmail
from app.models.sales import Offer
from app.security.tenancy import tenant_scope
from tests.helpers import login, option_labels, option_values, texts
from tests.integration.invoices_fixtures import create as create_invoice
from tests.integration.invoices_fixtures import seed_invoicing
from tests.integration.sales_fixtures import offer_form, pdf_text, seed_sales
from tests.integration.test_mailboxes import BASE, add_mailbox
from tests.mailservers import MailServers, active_mailbox


def _offer(client: Any, seed: dict) -> int:
    resp = client.post("/offers/add", data=offer_form(seed))
    assert resp.status_code == 302, resp.text[:2000]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _records(app: Any, company_id: int) -> list[tuple[str, int, str, str, str]]:
    with app.app_context(), tenant_scope(company_id):
        rows = [(r.document_kind, r.document_id, r.sender, r.recipient, r.subject)
                for r in db.session.scalars(select(DocumentEmail).order_by(DocumentEmail.id))]
        db.session.remove()
    return rows


def _room_for_mailboxes(app: Any, count: int) -> None:
    """Let the trial's plan (AppLarge) keep ``count`` mailboxes: this test needs more than the plan's default."""
    from app.models.billing import Plan

    with app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.code == "applarge")).scalar_one()
        plan.max_mailboxes = count
        db.session.commit()
        db.session.remove()


def test_offer_is_sent_from_the_chosen_active_mailbox_and_recorded(
    app: Any, owner_client: Any, mail_servers: MailServers, mail_outbox: list
) -> None:
    _room_for_mailboxes(app, 3)
    seed = seed_sales(app, owner_client.crm)
    company_id, owner_id = owner_client.crm["company_id"], owner_client.crm["owner_id"]
    first, first_user = active_mailbox(app, company_id, owner_id, mail_servers)
    second, second_user = active_mailbox(app, company_id, owner_id, mail_servers)
    inactive_user = mail_servers.add_user()
    inactive = add_mailbox(owner_client, mail_servers, inactive_user)
    client_box = mail_servers.add_user()
    offer_id = _offer(owner_client, seed)

    page = owner_client.get(f"/offers/{offer_id}/send")
    assert sorted(option_values(page.text, "mailbox_id")) == sorted([str(first), str(second)])
    assert str(inactive) not in option_values(page.text, "mailbox_id")
    assert f"Biuro <{second_user.email}>" in option_labels(page.text, "mailbox_id")

    resp = owner_client.post(f"/offers/{offer_id}/send", data={
        "mailbox_id": str(second), "to": client_box.email, "subject": "Oferta dla Źródła", "body": "Dzień dobry"},
        follow_redirects=True)
    assert resp.status_code == 200
    assert f"Oferta została wysłana na adres {client_box.email} z adresu {second_user.email}." in resp.text
    received = mail_servers.wait_for_messages(client_box)
    assert len(received) == 1
    msg = received[0]
    assert msg["Subject"] == "Oferta dla Źródła" and msg["From"].addresses[0].addr_spec == second_user.email
    assert msg["Message-ID"].endswith("@skrzynki-testowe.pl>") and msg["Date"]
    pdf = next(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and "Źródło Wód" in pdf_text(pdf.get_content())
    assert mail_outbox == []  # the platform's SMTP server sent nothing
    assert mail_servers.messages(first_user)[-1]["Subject"].startswith("Klientela: wiadomość testowa")

    assert _records(app, company_id) == [("offer", offer_id, second_user.email, client_box.email, "Oferta dla Źródła")]
    show = owner_client.get(f"/offers/{offer_id}")
    assert texts(show.text, "#document-emails .sent-from") == [f"Od: {second_user.email}"]
    assert texts(show.text, "#document-emails .sent-to") == [f"Do: {client_box.email}"]
    assert texts(show.text, "#document-emails .sent-subject") == ["Temat: Oferta dla Źródła"]
    with app.app_context(), tenant_scope(company_id):
        offer = db.session.get(Offer, offer_id)
        assert (offer.status, offer.sent_from, offer.sent_to) == ("sent", second_user.email, client_box.email)


def test_an_inactive_mailbox_cannot_be_used_and_nothing_is_sent(
    app: Any, owner_client: Any, mail_servers: MailServers, mail_outbox: list
) -> None:
    seed = seed_sales(app, owner_client.crm)
    company_id = owner_client.crm["company_id"]
    active_mailbox(app, company_id, owner_client.crm["owner_id"], mail_servers)
    inactive = add_mailbox(owner_client, mail_servers, mail_servers.add_user())
    client_box = mail_servers.add_user()
    offer_id = _offer(owner_client, seed)
    for value in (str(inactive), "", "abc", "999999"):
        resp = owner_client.post(f"/offers/{offer_id}/send", data={
            "mailbox_id": value, "to": client_box.email, "subject": "S", "body": "B"})
        assert resp.status_code == 200, value
        assert texts(resp.text, ".help-block.error")[0].startswith("Wybierz"), value
    assert mail_servers.messages(client_box) == [] and mail_outbox == []
    assert _records(app, company_id) == []
    with app.app_context(), tenant_scope(company_id):
        assert db.session.get(Offer, offer_id).status == "draft"


def test_sending_refused_by_the_mailbox_server_is_shown_and_not_recorded(
    app: Any, owner_client: Any, mail_servers: MailServers
) -> None:
    seed = seed_sales(app, owner_client.crm)
    company_id = owner_client.crm["company_id"]
    box_id, user = active_mailbox(app, company_id, owner_client.crm["owner_id"], mail_servers)
    client_box = mail_servers.add_user()
    mail_servers.refuse_recipient(client_box.email)
    offer_id = _offer(owner_client, seed)
    resp = owner_client.post(f"/offers/{offer_id}/send", data={
        "mailbox_id": str(box_id), "to": client_box.email, "subject": "S", "body": "B"}, follow_redirects=True)
    assert "Wiadomość nie została wysłana. Serwer SMTP odrzucił adres odbiorcy." in resp.text
    assert _records(app, company_id) == []
    with app.app_context(), tenant_scope(company_id):
        assert db.session.get(Offer, offer_id).status == "draft"


def test_another_company_cannot_send_through_a_mailbox_of_company_a(
    app: Any, owner_client: Any, make_company: Any, mail_servers: MailServers
) -> None:
    box_a, user_a = active_mailbox(app, owner_client.crm["company_id"], owner_client.crm["owner_id"], mail_servers)
    other = make_company("Intruz")
    b = app.test_client()
    login(b, other["email"])
    seed_b = seed_sales(app, other, suffix="B")
    box_b, _user_b = active_mailbox(app, other["company_id"], other["owner_id"], mail_servers)
    offer_b = _offer(b, seed_b)
    page = b.get(f"/offers/{offer_b}/send")
    assert option_values(page.text, "mailbox_id") == [str(box_b)]
    victim = mail_servers.add_user()
    resp = b.post(f"/offers/{offer_b}/send", data={
        "mailbox_id": str(box_a), "to": victim.email, "subject": "Podszyte", "body": "B"})
    assert resp.status_code == 200
    assert "Wybierz aktywną skrzynkę" in " ".join(texts(resp.text, ".help-block.error"))
    assert mail_servers.messages(victim) == []
    assert _records(app, other["company_id"]) == [] and _records(app, owner_client.crm["company_id"]) == []
    # B's own mailbox works, so the refusal above is about A's mailbox
    ok = b.post(f"/offers/{offer_b}/send", data={
        "mailbox_id": str(box_b), "to": victim.email, "subject": "Oferta", "body": "B"})
    assert ok.status_code == 302
    assert len(mail_servers.wait_for_messages(victim)) == 1
    assert b.get(f"{BASE}/{box_a}/progress").status_code == 404


def test_issued_invoice_is_sent_with_its_pdf_and_recorded(
    app: Any, owner_client: Any, mail_servers: MailServers, mail_outbox: list
) -> None:
    seed = seed_invoicing(app, owner_client.crm)
    company_id = owner_client.crm["company_id"]
    draft_id = create_invoice(owner_client, seed)
    assert "send-invoice" not in owner_client.get(f"/invoices/{draft_id}").text
    refused = owner_client.post(f"/invoices/{draft_id}/send", data={"to": "k@x.pl", "subject": "S", "body": "B"},
                                follow_redirects=True)
    assert "Firma nie ma aktywnej skrzynki" in refused.text
    box_id, user = active_mailbox(app, company_id, owner_client.crm["owner_id"], mail_servers)
    draft = owner_client.post(f"/invoices/{draft_id}/send", data={
        "mailbox_id": str(box_id), "to": "k@x.pl", "subject": "S", "body": "B"}, follow_redirects=True)
    assert "Najpierw wystaw fakturę" in draft.text

    invoice_id = create_invoice(owner_client, seed, issue=True)
    buyer = mail_servers.add_user()
    form_page = owner_client.get(f"/invoices/{invoice_id}/send")
    assert form_page.status_code == 200 and option_values(form_page.text, "mailbox_id") == [str(box_id)]
    resp = owner_client.post(f"/invoices/{invoice_id}/send", data={
        "mailbox_id": str(box_id), "to": buyer.email, "subject": "Faktura FV/1", "body": "W załączniku faktura."})
    assert resp.status_code == 302, resp.text[:2000]
    msg = mail_servers.wait_for_messages(buyer)[0]
    pdf = next(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename().endswith(".pdf")
    assert msg["From"].addresses[0].addr_spec == user.email
    assert mail_outbox == []
    assert _records(app, company_id) == [("invoice", invoice_id, user.email, buyer.email, "Faktura FV/1")]
    show = owner_client.get(f"/invoices/{invoice_id}")
    assert texts(show.text, "#document-emails .sent-to") == [f"Do: {buyer.email}"]


def test_order_is_sent_with_its_pdf_and_recorded(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    seed = seed_sales(app, owner_client.crm)
    company_id = owner_client.crm["company_id"]
    offer_id = _offer(owner_client, seed)
    assert owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"}).status_code == 302
    made = owner_client.post(f"/orders/from-offer/{offer_id}")
    assert made.status_code == 302
    order_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    box_id, user = active_mailbox(app, company_id, owner_client.crm["owner_id"], mail_servers)
    client_box = mail_servers.add_user()
    page = owner_client.get(f"/orders/{order_id}/send")
    assert option_values(page.text, "mailbox_id") == [str(box_id)]
    resp = owner_client.post(f"/orders/{order_id}/send", data={
        "mailbox_id": str(box_id), "to": client_box.email, "subject": "Zlecenie ZL/1", "body": "W załączniku."})
    assert resp.status_code == 302, resp.text[:2000]
    msg = mail_servers.wait_for_messages(client_box)[0]
    assert next(msg.iter_attachments()).get_content_type() == "application/pdf"
    assert _records(app, company_id) == [("order", order_id, user.email, client_box.email, "Zlecenie ZL/1")]
    assert texts(owner_client.get(f"/orders/{order_id}").text, "#document-emails .sent-subject") == ["Temat: Zlecenie ZL/1"]
