"""The Polish catalog is complete and correct (DESIGN.md rule 7); no app needed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "pl" / "LC_MESSAGES" / "messages.po"
PLURAL_FORMS = "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"

#: msgid -> the only acceptable Polish (product vocabulary, and FAB's own known mistakes)
KNOWN = {
    "Sign In": "Zaloguj się",  # FAB's pl catalog says "Zarejestruj się" (register)
    "Sign in": "Zaloguj się",
    "Login": "Zaloguj się",
    "Sign out": "Wyloguj",
    "Logout": "Wyloguj",
    "Add": "Dodaj",
    "Edit": "Edycja",
    "Delete": "Usuń",
    "Show": "Szczegóły",
    "Detail": "Szczegóły",
    "Save": "Zapisz",
    "Search": "Szukaj",
    "Record Count": "Liczba rekordów",
    "This field is required.": "To pole jest wymagane.",
    "Owner": "Właściciel",
    "Employee": "Pracownik",
    "Platform administrator": "Administrator systemu",
    "Company data": "Dane firmy",
    "Employees": "Pracownicy",
    "Dashboard": "Pulpit",
    "Create an account": "Załóż konto",
    "Settings": "Ustawienia",
}
#: Polish that must never be the translation of these msgids
WRONG = {"Sign In": "Zarejestruj się", "Sign in using:": "Rejestracja z użyciem:", "Record Count": "Ilość rekordów"}

NAMED = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACES = re.compile(r"\{[A-Za-z_0-9.\[\]]*\}")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The Polish catalog as Babel reads it."""
    with PO.open("rb") as fh:
        return read_po(fh)


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _strings(msg: Message) -> tuple[str, ...]:
    return tuple(msg.string) if isinstance(msg.string, (tuple, list)) else (msg.string,)


def _key(msg: Message) -> str:
    return msg.id[0] if isinstance(msg.id, tuple) else msg.id


def _placeholders(text: str, positional: bool) -> set[str]:
    found = set(NAMED.findall(text)) | set(BRACES.findall(text))
    if positional:
        found |= set(POSITIONAL.findall(text.replace("%%", "")))
    return found


def _effective(catalog: Catalog) -> Translations:
    """FAB's shipped pl catalog with ours merged over it, exactly as Flask-Babel loads them."""
    import flask_appbuilder

    fab = Translations.load(str(Path(flask_appbuilder.__file__).parent / "translations"), ["pl"])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    ours = Translations(fp=buf)
    fab.merge(ours)
    return fab


def test_header_is_polish(catalog: Catalog) -> None:
    headers = dict(catalog.mime_headers)
    assert headers.get("Language") == "pl"
    assert headers.get("Plural-Forms") == PLURAL_FORMS


def test_every_entry_translated_and_not_fuzzy(catalog: Catalog) -> None:
    fuzzy = [_key(m) for m in _messages(catalog) if m.fuzzy]
    empty = [_key(m) for m in _messages(catalog) if not all(_strings(m))]
    plural_gaps = [_key(m) for m in _messages(catalog) if isinstance(m.id, tuple) and len(_strings(m)) != 3]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    assert not plural_gaps, f"plural entries without 3 Polish forms: {plural_gaps}"


def test_msgfmt_statistics() -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is not installed: `make setup-test` installs the gettext package"
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO)],
        check=False, capture_output=True, text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    report = result.stderr.strip()
    assert result.returncode == 0, report
    assert re.fullmatch(r"\d+ translated messages?\.", report), report


def test_i18n_check_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"],
        check=False, capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("msgid", sorted(KNOWN))
def test_known_translations(catalog: Catalog, msgid: str) -> None:
    msg = catalog.get(msgid)
    assert msg is not None, f"{msgid!r} is not in the catalog any more: take it out of KNOWN"
    assert msg.string == KNOWN[msgid]


def test_known_mistranslations_absent(catalog: Catalog) -> None:
    wrong = {k: v for k, v in WRONG.items() if catalog.get(k) is not None and catalog.get(k).string == v}
    assert not wrong
    effective = _effective(catalog)
    assert effective.gettext("Sign In") == "Zaloguj się"
    assert effective.gettext("Edit") == "Edycja"


def test_placeholders_match(catalog: Catalog) -> None:
    problems = []
    for msg in _messages(catalog):
        positional = "python-format" in msg.flags
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        id_sets = [_placeholders(i, positional) for i in ids]
        for index, text in enumerate(_strings(msg)):
            if not text:
                continue
            have = _placeholders(text, positional)
            if len(ids) == 1:
                ok = have == id_sets[0]
            elif index == 0:  # Polish "one" form: may spell the number like the English singular
                ok = id_sets[0] & id_sets[1] <= have <= id_sets[0] | id_sets[1]
            else:
                ok = have == id_sets[1]
            if not ok:
                problems.append(f"{_key(msg)!r} -> {text!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_polish_plural_forms(catalog: Catalog) -> None:
    msg = catalog.get(("%(num)s day left", "%(num)s days left"))
    assert msg is not None, "the licence countdown string is not in the catalog any more: pick another plural here"
    effective = _effective(catalog)
    got = {n: effective.ngettext("%(num)s day left", "%(num)s days left", n) % {"num": n} for n in (1, 2, 4, 5, 12, 22, 25)}
    assert got == {
        1: "Został 1 dzień", 2: "Zostały 2 dni", 4: "Zostały 4 dni", 5: "Zostało 5 dni",
        12: "Zostało 12 dni", 22: "Zostały 22 dni", 25: "Zostało 25 dni",
    }
