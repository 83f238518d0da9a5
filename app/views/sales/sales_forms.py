"""WTForms of the price list, offers and orders (labels translatable, CSRF from Flask-WTF).

Values are checked by the services, so that every refusal has one Polish message; the item
lines of the builder come as parallel lists (item_name, item_quantity, ...) read by ``read_items``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from app.models.sales import CURRENCIES, VAT_RATES
from app.services import inputs
from app.services.sales.documents import Document, ItemData
from app.services.sales.offers import LANGUAGE_LABELS, TEMPLATE_LABELS
from app.services.sales.pricing import format_quantity, vat_label
from app.views.forms import CheckedByService

ITEM_FIELDS = ("product_id", "name", "code", "unit", "quantity", "unit_price", "discount", "vat_rate")


def vat_choices() -> list[tuple[str, str]]:
    """VAT rates as the select shows them."""
    return [(r, vat_label(r)) for r in VAT_RATES]


class ProductForm(FlaskForm):
    """A product or service of "Cennik"."""

    name = StringField(_l("Name"), validators=[CheckedByService(max_len=200)])
    code = StringField(_l("Code"), validators=[CheckedByService(max_len=40)])
    unit = StringField(_l("Unit"), default="szt.", validators=[CheckedByService(max_len=12)],
                       render_kw={"list": "unit-list"})
    net_price = StringField(_l("Net price"), validators=[CheckedByService(max_len=20)], render_kw={"inputmode": "decimal"})
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="PLN")
    vat_rate = SelectField(_l("VAT rate"), choices=[], default="23")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vat_rate.choices = vat_choices()


class ImportForm(FlaskForm):
    """CSV import of the price list."""

    file = FileField(_l("CSV file"))


class _DocumentForm(FlaskForm):
    """Header fields shared by offers and orders."""

    contact_id = HiddenField()
    contact_label = StringField(_l("Client"), render_kw={"autocomplete": "off"})
    language = SelectField(_l("Language of the document"), choices=[], default="pl")
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="PLN")
    binder_id = StringField(_l("Binder"))  # an id, rendered by the picker macro (crm/_picker.html)
    payment_terms = StringField(_l("Payment terms"), validators=[CheckedByService(max_len=200)])
    notes = TextAreaField(_l("Notes"), validators=[CheckedByService(max_len=4000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [(k, str(v)) for k, v in LANGUAGE_LABELS.items()]


class OfferForm(_DocumentForm):
    """"Nowa oferta" / "Edycja" of an offer."""

    template = SelectField(_l("Offer format"), choices=[], default="full")
    valid_until = StringField(_l("Valid until"), render_kw={"type": "date"})
    reminder_on = StringField(_l("Reminder"), render_kw={"type": "date"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = [(k, str(v)) for k, v in TEMPLATE_LABELS.items()]


class OrderForm(_DocumentForm):
    """An order from scratch or its "Edycja"."""

    due_date = StringField(_l("Due date"), render_kw={"type": "date"})


class SendForm(FlaskForm):
    """E-mail a document with its PDF from one of the company's verified mailboxes."""

    mailbox_id = SelectField(_l("Send from"), choices=[], validate_choice=False)
    to = StringField(_l("Recipient"), validators=[Length(max=254)])
    subject = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[Length(max=10000)])


def parse_date(raw: Any, field: str) -> dt.date | None:
    """A date from an <input type=date> (YYYY-MM-DD) or DD.MM.YYYY; DomainError when malformed."""
    return inputs.parse_date(raw, field)


def read_items(form_data: MultiDict[str, str]) -> list[ItemData]:
    """The builder's lines from the posted parallel lists."""
    columns = {f: form_data.getlist(f"item_{f}") for f in ITEM_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    items = []
    for i in range(min(count, 1000)):
        values = {f: (columns[f][i] if i < len(columns[f]) else "") for f in ITEM_FIELDS}
        items.append(ItemData(**values))
    return items


def items_for_form(items: list[ItemData]) -> list[dict[str, str]]:
    """Lines to pre-fill the builder (after a refused save, or when editing)."""
    return [{f: ("" if getattr(it, f) is None else str(getattr(it, f))) for f in ITEM_FIELDS} for it in items]


def _plain(value: Decimal) -> str:
    """A number as a Polish user types it: "1,5", "4500,00" (the builder and the server read both)."""
    return format_quantity(value)


def items_of(doc: Document) -> list[ItemData]:
    """The saved lines of an offer or order as form data."""
    return [
        ItemData(product_id=it.product_id or "", name=it.name, code=it.code or "", unit=it.unit,
                 quantity=_plain(it.quantity), unit_price=str(it.unit_price).replace(".", ","), discount=_plain(it.discount),
                 vat_rate=it.vat_rate)
        for it in doc.items
    ]

