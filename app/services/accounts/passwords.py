"""Password policy: the product's "strong password" rules, checked with zxcvbn (Polish words too)."""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Iterable

import zxcvbn
import zxcvbn_pl
from flask_babel import lazy_gettext as _l

from app.models.users import CrmUser
from app.services import DomainError

MIN_LENGTH = 10
MIN_SCORE = 3
#: keyboard walks that are not straight rows (column walks, other layouts)
_KEYBOARD_FRAGMENTS = ("qweasd", "1qaz", "zaq1", "2wsx", "xsw2", "qazwsx", "qwertz", "azerty", "ytrewq")
_registered = threading.Lock()
_done = False
_SEQUENCES = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "qweasdzxc", "qazwsxedc", "1234567890", "abcdefghij")


def _ensure_polish() -> None:
    global _done
    with _registered:
        if not _done:
            zxcvbn_pl.register()
            _done = True


def _fold(text: str) -> str:
    """Lower-case without Polish diacritics, so "Wiśniewska" matches "wisniewska"."""
    text = text.lower().replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def user_inputs(user: CrmUser) -> list[str]:
    """What a password must not contain: the user's name, login, e-mail and company name."""
    values = [user.first_name, user.last_name, user.username, user.email]
    if user.company is not None:
        values.append(user.company.name)
    return [v for v in values if v]


def _input_parts(user_inputs: Iterable[str]) -> list[str]:
    """Words of 3+ letters of the user's name, login, e-mail and company name, folded."""
    return [p for v in user_inputs for p in re.split(r"[\s@._\-]+", _fold(v or "")) if len(p) >= 3]


def _has_sequence(password: str) -> bool:
    low = password.lower()
    for seq in _SEQUENCES:
        for i in range(len(seq) - 3):
            chunk = seq[i : i + 4]
            if chunk in low or chunk[::-1] in low:
                return True
    return any(frag in low for frag in _KEYBOARD_FRAGMENTS)


def _letters_are_common_words(password: str) -> bool:
    """True when the letters alone are one or two common words ("Samochód#2024", "Polska-2024!")."""
    letters = re.sub(r"[^a-ząćęłńóśźż]", "", password.lower())
    if len(letters) < 3:
        return False
    for candidate in {letters, _fold(letters)}:
        result = zxcvbn.zxcvbn(candidate[:100])
        seq = result.get("sequence", [])
        if seq and all(m.get("pattern") == "dictionary" for m in seq) and result["guesses_log10"] < 7:
            return True
    return False


def check_password(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise DomainError saying, in Polish, why ``password`` is too weak."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise DomainError(_l("Password must have at least %(n)s characters.", n=MIN_LENGTH), "password")
    if not re.search(r"[a-ząćęłńóśźż]", password):
        raise DomainError(_l("Password must contain a lower-case letter."), "password")
    if not re.search(r"[A-ZĄĆĘŁŃÓŚŹŻ]", password):
        raise DomainError(_l("Password must contain an upper-case letter."), "password")
    if not re.search(r"\d", password):
        raise DomainError(_l("Password must contain a digit."), "password")
    if not re.search(r"[^\w\s]|_", password):
        raise DomainError(_l("Password must contain a special character."), "password")
    low = _fold(password)
    inputs = _input_parts(user_inputs)
    if any(part in low for part in inputs):
        raise DomainError(_l("Password must not contain your name, login, e-mail or company name."), "password")
    if _has_sequence(password):
        raise DomainError(
            _l("Password must not contain keyboard sequences such as qwerty, 123456 or qweasd."),
            "password",
        )
    _ensure_polish()
    result = zxcvbn.zxcvbn(password[:100], user_inputs=inputs)
    if any(m.get("pattern") == "dictionary" and len(m.get("token", "")) >= len(password) - 4
           for m in result.get("sequence", [])):
        raise DomainError(_l("Password is too close to a dictionary word."), "password")
    if _letters_are_common_words(password):
        raise DomainError(_l("Password is too close to a dictionary word."), "password")
    if result["score"] < MIN_SCORE:
        raise DomainError(
            _l("Password is too easy to guess; add more words or characters."), "password"
        )


def strength_score(password: str, user_inputs: Iterable[str] = ()) -> int:
    """Zxcvbn score 0-4 (Polish words too) for the strength meter."""
    if not password:
        return 0
    _ensure_polish()
    return int(zxcvbn.zxcvbn(password[:100], user_inputs=_input_parts(user_inputs))["score"])
