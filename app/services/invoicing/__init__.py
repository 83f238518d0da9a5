"""Invoices as documents: values independent of the ORM, Polish totals and the KSeF FA(3) XML.

No database here: the invoice model builds an ``Invoice`` and asks this package for its totals,
its split-payment annotation, its amount in words and its FA(3) bytes.
"""

from app.services.invoicing.documents import (
    KINDS,
    PAYMENT_METHODS,
    RATE_CODES,
    CorrectionOf,
    Invoice,
    Line,
    Party,
    Payment,
    normalize_rate,
)
from app.services.invoicing.fa3 import NAMESPACE, build_fa3, check_document, validate
from app.services.invoicing.totals import (
    SPLIT_PAYMENT_THRESHOLD,
    CorrectionTotals,
    InvoiceTotals,
    RateTotal,
    amount_in_words,
    compute_totals,
    correction_totals,
    difference,
    document_totals,
    invoice_totals,
    split_payment_required,
    to_pln,
)

__all__ = [
    "KINDS", "NAMESPACE", "PAYMENT_METHODS", "RATE_CODES", "SPLIT_PAYMENT_THRESHOLD",
    "CorrectionOf", "CorrectionTotals", "Invoice", "InvoiceTotals", "Line", "Party", "Payment", "RateTotal",
    "amount_in_words", "build_fa3", "check_document", "compute_totals", "correction_totals", "difference",
    "document_totals", "invoice_totals", "normalize_rate", "split_payment_required", "to_pln", "validate",
]
