"""Printing offers and orders: template context (company, client, items, totals, words) -> PDF."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from flask import render_template
from flask_babel import force_locale

from app.extensions import db
from app.integrations.pdf import render_pdf
from app.models.company import Company
from app.services import pricing

ACCENT = {"offer": "#2e9e4f", "order": "#00897b"}
TEMPLATES = {"full": "pdf/offer_full.html", "compact": "pdf/offer_compact.html", "order": "pdf/order.html"}


def _date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _logo_uri(company: Company) -> str | None:
    if not company.logo:
        return None
    mime = company.logo_mime or "image/png"
    return f"data:{mime};base64,{base64.b64encode(company.logo).decode()}"


def document_totals(doc: Any) -> pricing.Totals:
    """Totals of an offer or order from its stored line nets."""
    return pricing.compute_totals((it.net, it.vat_rate) for it in doc.items)


def render_html(doc: Any, template: str, kind: str = "offer") -> str:
    """The HTML of a document in its own language (pl or en), as the PDF engine gets it."""
    company = db.session.get(Company, doc.company_id)
    totals = document_totals(doc)
    with force_locale(doc.language or "pl"):
        return render_template(
            TEMPLATES[template],
            doc=doc,
            doc_lang=doc.language or "pl",
            seller=company,
            buyer=doc.contact,
            logo=_logo_uri(company),
            totals=totals,
            words=pricing.amount_in_words(totals.gross, doc.currency, doc.language or "pl"),
            accent=ACCENT[kind],
            money=pricing.format_money,
            qty=pricing.format_quantity,
            vat_label=pricing.vat_label,
            date=_date,
        )


def render_document_pdf(doc: Any, template: str, kind: str = "offer") -> bytes:
    """The PDF of an offer (template "full"/"compact") or an order (template "order")."""
    return render_pdf(render_html(doc, template, kind))


def pdf_filename(doc: Any, version: int | None = None) -> str:
    """A safe file name: "OF_12_2026_v2.pdf"."""
    base = doc.number.replace("/", "_")
    return f"{base}_v{version}.pdf" if version else f"{base}.pdf"
