"""Printing offers and orders: template context (company, client, items, totals, words) -> PDF."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Union

from flask import render_template
from flask_babel import force_locale

from app.extensions import db
from app.integrations.pdf import render_pdf
from app.models.company import Company
from app.models.sales import Offer, Order
from app.services.sales import pricing

ACCENT = {"offer": "#2e9e4f", "order": "#00897b"}
#: an offer or an order
Document = Union[Offer, Order]

TEMPLATES = {"full": "pdf/offer_full.html", "compact": "pdf/offer_compact.html", "order": "pdf/order.html"}


def _date(value: dt.date | None) -> str:
    """A date as Polish documents print it, "—" for none."""
    return value.strftime("%d.%m.%Y") if value else "—"


#: the standard units of the price list as an English document prints them
EN_UNITS = {"szt.": "pcs", "godz.": "h", "usł.": "service", "kpl.": "set", "mb": "lm", "dzień": "day",
            "mies.": "month", "km": "km", "m": "m", "m²": "m²", "kg": "kg", "l": "l"}


def _iban(value: str | None) -> str:
    """An account number in groups of four ("PL61 1090 1014 ..."), as Polish documents print it."""
    text = (value or "").replace(" ", "")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _logo_uri(company: Company) -> str | None:
    """The company logo as a data: URI for the PDF engine, or None."""
    if not company.logo:
        return None
    mime = company.logo_mime or "image/png"
    return f"data:{mime};base64,{base64.b64encode(company.logo).decode()}"


def document_totals(doc: Document) -> pricing.Totals:
    """Totals of an offer or order from its stored line nets."""
    return pricing.compute_totals((it.net, it.vat_rate) for it in doc.items)


def render_html(doc: Document, template: str, kind: str = "offer") -> str:
    """The HTML of a document in its own language (pl or en), as the PDF engine gets it."""
    company = db.session.get(Company, doc.company_id)
    totals = document_totals(doc)
    lang = doc.language or "pl"
    with force_locale(lang):
        return render_template(
            TEMPLATES[template],
            doc=doc,
            doc_lang=lang,
            seller=company,
            buyer=doc.contact,
            logo=_logo_uri(company),
            totals=totals,
            words=pricing.amount_in_words(totals.gross, doc.currency, lang),
            accent=ACCENT[kind],
            money=pricing.format_money,
            qty=pricing.format_quantity,
            vat_label=lambda rate: pricing.vat_label(rate, lang),
            unit=(lambda u: EN_UNITS.get(u, u)) if lang == "en" else (lambda u: u),
            iban=_iban,
            date=_date,
        )


def render_document_pdf(doc: Document, template: str, kind: str = "offer") -> bytes:
    """The PDF of an offer (template "full"/"compact") or an order (template "order")."""
    return render_pdf(render_html(doc, template, kind))


def pdf_filename(doc: Document, version: int | None = None) -> str:
    """A safe file name: "OF_12_2026_v2.pdf"."""
    base = doc.number.replace("/", "_")
    return f"{base}_v{version}.pdf" if version else f"{base}.pdf"
