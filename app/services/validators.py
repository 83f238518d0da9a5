"""Polish data rules: NIP, REGON, PESEL, IBAN, postal code, phone, e-mail."""

from __future__ import annotations

import re
from typing import Optional

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum import iban as std_iban
from stdnum.exceptions import ValidationError
from stdnum.pl import nip as std_nip
from stdnum.pl import pesel as std_pesel
from stdnum.pl import regon as std_regon

from app.services import DomainError
from app.services.inputs import check_text

_POSTAL = re.compile(r"^\d{2}-\d{3}$")


def _digits(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def clean_nip(value: str, field: str = "nip") -> str:
    """Return the 10-digit NIP or raise DomainError saying why it is wrong."""
    raw = _digits(value).upper().removeprefix("PL")
    if not raw:
        raise DomainError(_l("NIP is required."), field)
    if not raw.isdigit() or len(raw) != 10:
        raise DomainError(_l("NIP must have 10 digits."), field)
    try:
        return std_nip.validate(raw)
    except ValidationError:
        raise DomainError(_l("NIP has a wrong check digit."), field) from None


def clean_regon(value: Optional[str], field: str = "regon") -> Optional[str]:
    """Return a 9- or 14-digit REGON, None when empty, or raise DomainError."""
    raw = _digits(value or "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) not in (9, 14):
        raise DomainError(_l("REGON must have 9 or 14 digits."), field)
    try:
        return std_regon.validate(raw)
    except ValidationError:
        raise DomainError(_l("REGON has a wrong check digit."), field) from None


def clean_pesel(value: Optional[str], field: str = "pesel") -> Optional[str]:
    """Return an 11-digit PESEL, None when empty, or raise DomainError."""
    raw = _digits(value or "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) != 11:
        raise DomainError(_l("PESEL must have 11 digits."), field)
    try:
        return std_pesel.validate(raw)
    except ValidationError:
        raise DomainError(_l("PESEL has a wrong check digit."), field) from None


def clean_iban(value: Optional[str], field: str = "iban") -> Optional[str]:
    """Return a compact IBAN (a bare 26-digit number is taken as Polish), or raise DomainError."""
    raw = re.sub(r"\s", "", value or "").upper()
    if not raw:
        return None
    if raw.isdigit() and len(raw) == 26:
        raw = "PL" + raw
    try:
        return std_iban.validate(raw)
    except ValidationError:
        raise DomainError(_l("Bank account number (IBAN) is not valid."), field) from None


def clean_postal_code(value: Optional[str], field: str = "postal_code") -> Optional[str]:
    """Return a Polish postal code NN-NNN, None when empty, or raise DomainError."""
    raw = (value or "").strip()
    if not raw:
        return None
    if re.fullmatch(r"\d{5}", raw):
        raw = f"{raw[:2]}-{raw[2:]}"
    if not _POSTAL.match(raw):
        raise DomainError(_l("Postal code must look like 00-000."), field)
    return raw


def clean_phone(value: Optional[str], field: str = "phone") -> Optional[str]:
    """Return a phone number normalised to +48XXXXXXXXX (or +CC...), or raise DomainError."""
    raw = re.sub(r"[\s\-().]", "", value or "")
    if not raw:
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if not raw.startswith("+"):
        if raw.isdigit() and len(raw) == 9:
            raw = "+48" + raw
        elif raw.isdigit() and len(raw) == 11 and raw.startswith("48"):
            raw = "+" + raw
        else:
            raise DomainError(_l("Phone number is not valid; use 9 digits or +country code."), field)
    digits = raw[1:]
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise DomainError(_l("Phone number is not valid; use 9 digits or +country code."), field)
    if digits.startswith("48") and len(digits) != 11:
        raise DomainError(_l("A Polish phone number has 9 digits."), field)
    return raw


def clean_email(value: Optional[str], field: str = "email", required: bool = False) -> Optional[str]:
    """Return a normalised e-mail address (domain lower-cased), or raise DomainError."""
    raw = (value or "").strip()
    if not raw:
        if required:
            raise DomainError(_l("E-mail address is required."), field)
        return None
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_l("E-mail address is not valid."), field) from None
    return info.normalized.lower()


def clean_text(value: Optional[str], field: str, label: str, max_len: int, required: bool = False) -> Optional[str]:
    """Strip a text field, enforce presence and length; refuse control characters (NUL...)."""
    raw = (value or "").strip()
    if not raw:
        if required:
            raise DomainError(_l("%(field)s is required.", field=label), field)
        return None
    check_text(raw, field)
    if len(raw) > max_len:
        raise DomainError(_l("%(field)s is too long (at most %(n)s characters).", field=label, n=max_len), field)
    return raw
