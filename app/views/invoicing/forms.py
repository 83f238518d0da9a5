"""WTForms of invoices, payments, corrections and series (labels translatable, CSRF from Flask-WTF).

Values are checked by the services; the item lines come as parallel lists (item_name, item_unit,
item_quantity, item_unit_price, item_discount, item_rate, item_annex15) read by ``read_lines``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional as Opt

from app.models.invoicing import PAYMENT_METHODS
from app.services.invoicing import invoices as svc
from app.services.invoicing import series as series_svc
from app.services.invoicing.invoices import LineData
from app.views.forms import CheckedByService

LINE_FIELDS = ("name", "unit", "quantity", "unit_price", "discount", "rate", "annex15")


def payment_choices() -> list[tuple[str, str]]:
    """Payment methods as the select shows them."""
    return [(m, str(svc.PAYMENT_LABELS[m])) for m in PAYMENT_METHODS]


class InvoiceForm(FlaskForm):
    """"Nowa faktura" / "Edycja" of a draft, a proforma or a correction."""

    contact_id = HiddenField()
    contact_label = StringField(_l("Buyer"), render_kw={"autocomplete": "off"})
    series_id = SelectField(_l("Numbering series"), choices=[], validate_choice=False)
    issue_date = StringField(_l("Issue date"), render_kw={"type": "date"})
    sale_date = StringField(_l("Sale date"), render_kw={"type": "date"})
    place_of_issue = StringField(_l("Place of issue"), validators=[CheckedByService(max_len=100)])
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in svc.CURRENCIES], default="PLN")
    exchange_rate = StringField(_l("NBP exchange rate"), validators=[CheckedByService(max_len=20)],
                                render_kw={"inputmode": "decimal", "placeholder": "4,2512"})
    exchange_table = StringField(_l("NBP table"), validators=[CheckedByService(max_len=40)],
                                 render_kw={"placeholder": "123/A/NBP/2026"})
    exchange_date = StringField(_l("Date of the NBP table"), render_kw={"type": "date"})
    payment_method = SelectField(_l("Payment method"), choices=[], default="transfer")
    due_date = StringField(_l("Payment due"), render_kw={"type": "date"})
    exemption_basis = StringField(_l("Legal basis of the exemption (zw)"), validators=[CheckedByService(max_len=256)],
                                  render_kw={"placeholder": "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT"})
    binder_id = StringField(_l("Binder"))  # an id, rendered by the picker macro (crm/_picker.html)
    notes = TextAreaField(_l("Notes"), validators=[CheckedByService(max_len=2000)])
    reason = StringField(_l("Reason for the correction"), validators=[CheckedByService(max_len=256)])

    def __init__(self, *args: Any, company_id: int, kind: str = "vat", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payment_method.choices = payment_choices()
        self.series_id.choices = [("", str(_l("Default series")))] + [
            (str(s.id), f"{s.name} ({s.pattern})") for s in series_svc.series_choices(company_id, kind)]


class PaymentForm(FlaskForm):
    """Record a payment."""

    amount = StringField(_l("Amount"), validators=[Length(max=20)], render_kw={"inputmode": "decimal"})
    paid_on = StringField(_l("Payment date"), render_kw={"type": "date"})
    method = SelectField(_l("Payment method"), choices=[], default="transfer")
    note = StringField(_l("Note"), validators=[Opt(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method.choices = payment_choices()


class CorrectionForm(FlaskForm):
    """"Korekta": the reason, then the lines after are edited in the invoice form."""

    reason = StringField(_l("Reason for the correction"), validators=[Length(max=256)])


class SeriesForm(FlaskForm):
    """A numbering series."""

    name = StringField(_l("Name"), validators=[Length(max=60)])
    kind = SelectField(_l("Kind of documents"), choices=[], default="vat")
    pattern = StringField(_l("Pattern"), validators=[Length(max=60)], default="FV/{n}/{MM}/{YYYY}")
    reset = SelectField(_l("Numbering restarts"), choices=[], default="monthly")
    is_default = BooleanField(_l("Default series of this kind"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, str(v)) for k, v in series_svc.KIND_LABELS.items()]
        self.reset.choices = [(k, str(v)) for k, v in series_svc.RESET_LABELS.items()]


def read_lines(form_data: Any) -> list[LineData]:
    """The form's lines from the posted parallel lists."""
    columns = {f: form_data.getlist(f"item_{f}") for f in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    return [LineData(**{f: (columns[f][i] if i < len(columns[f]) else "") for f in LINE_FIELDS})
            for i in range(min(count, 1000))]


def lines_for_form(lines: list[LineData]) -> list[dict]:
    """Lines to pre-fill the form (after a refused save, or when editing)."""
    out = []
    for it in lines:
        row = {f: ("" if getattr(it, f) is None else str(getattr(it, f))) for f in LINE_FIELDS}
        row["annex15"] = "1" if it.annex15 in (True, "1", "on", "true", "y") else "0"
        out.append(row)
    return out
