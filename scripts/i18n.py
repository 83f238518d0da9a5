"""Polish catalog tooling: ``extract``, ``compile`` and ``check`` (DESIGN.md rule 7).

Usage (from anywhere)::

    .venv/bin/python scripts/i18n.py extract   # app + FAB + WTForms msgids -> messages.pot -> pl/messages.po
    .venv/bin/python scripts/i18n.py compile   # pl/messages.po -> pl/messages.mo
    .venv/bin/python scripts/i18n.py check     # non-zero exit on any gap in the catalog

WTForms/Flask-WTF validation messages are extracted too, so the catalog can replace WTForms'
own, incomplete Polish one. Plain ``pybabel`` only: ``flask fab babel-extract`` starts extract and update without waiting
for either, and has been seen to empty catalogs.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
APP_CFG = ROOT / "babel.cfg"
FAB_CFG = TRANSLATIONS / "fab-babel.cfg"
POT = TRANSLATIONS / "messages.pot"
FAB_POT = TRANSLATIONS / "fab.pot"
FORMS_POT = TRANSLATIONS / "wtforms.pot"
LOCALE = "pl"
PO = TRANSLATIONS / LOCALE / "LC_MESSAGES" / "messages.po"
#: the lock scripts/po-merge.sh takes too: one writer of messages.po at a time
LOCK = Path("/tmp/klientela-po.lock")

APP_KEYWORDS = ["_l", "lazy_gettext", "gettext", "ngettext:1,2", "lazy_ngettext:1,2"]
FAB_KEYWORDS = ["_", "__", "lazy_gettext", "gettext", "_l"]
#: WTForms / Flask-WTF call ``field.gettext`` and ``field.ngettext``: pybabel's default keywords
FORMS_PACKAGES = ["wtforms", "flask_wtf"]
HEADERS = {
    "Language": "pl",
    "Plural-Forms": (
        "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    ),
}
#: cosmetic header fields replacing pybabel's placeholders
HEADER_DEFAULTS = {"Last-Translator": "Klientela", "Language-Team": "Polski"}

#: ``%(name)s``-style, ``%s``-style and ``{name}``-style placeholders
NAMED_RE = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL_RE = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE_RE = re.compile(r"\{[A-Za-z_0-9.\[\]]*\}")


def pybabel() -> str:
    """Path of the ``pybabel`` next to this interpreter (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("pybabel")
    if local.exists():
        return str(local)
    found = shutil.which("pybabel")
    if not found:
        sys.exit("pybabel not found: install Babel in the virtualenv")
    return found


def run(args: list[str], cwd: Path = ROOT) -> None:
    """Run a command, stop the script when it fails."""
    result = subprocess.run(args, check=False, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"failed: {' '.join(args)}")


def package_dir(name: str) -> Path:
    """Directory of an installed package (located, not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not installed in this interpreter")
    return Path(next(iter(spec.submodule_search_locations)))


def app_input() -> str:
    """Input path for babel.cfg: pybabel matches a directory input's files relative to it.

    babel.cfg names ``app/**.py``, i.e. paths relative to the repository root, so the input
    is ``.`` then (dot-directories such as .venv are skipped by pybabel); with patterns
    relative to app/ (``**.py``) the input is ``app``.
    """
    parser = configparser.RawConfigParser()
    parser.read(APP_CFG)
    patterns = [s.split(":", 1)[1].strip() for s in parser.sections() if ":" in s]
    if patterns and all(p.startswith("app/") for p in patterns):
        return "."
    return "app"


def extract_app(out: Path) -> None:
    """Extract the app's msgids (python + templates under app/) into ``out``."""
    args = [pybabel(), "extract", "-F", str(APP_CFG), "--project=Klientela", "--version=1.0",
            "--copyright-holder=Klientela", "--add-comments=TRANSLATORS:"]
    args += [f"-k{k}" for k in APP_KEYWORDS]
    run(args + ["-o", str(out), app_input()], cwd=ROOT)


def extract_package(name: str, keywords: list[str], out: Path) -> None:
    """Extract every msgid of an installed package (python + templates) into ``out``."""
    package = package_dir(name)
    args = [pybabel(), "extract", "-F", str(FAB_CFG), f"--project={name}"]
    args += [f"-k{k}" for k in keywords]
    run(args + ["-o", str(out), package.name], cwd=package.parent)


def extract_fab(out: Path) -> None:
    """Extract every msgid of the installed Flask-AppBuilder into ``out``."""
    extract_package("flask_appbuilder", FAB_KEYWORDS, out)


def extract_forms(out: Path) -> None:
    """Extract the validation messages of WTForms and Flask-WTF into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        pots = []
        for name in FORMS_PACKAGES:
            pots.append(Path(tmp) / f"{name}.pot")
            extract_package(name, [], pots[-1])
        merge(pots, out)


@contextlib.contextmanager
def catalog_lock() -> Iterator[None]:
    """Hold the catalog lock (shared with scripts/po-merge.sh) while messages.po is rewritten."""
    with LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load(path: Path) -> Catalog:
    """Read a .po/.pot file."""
    with path.open("rb") as fh:
        return read_po(fh)


def save(catalog: Catalog, path: Path) -> None:
    """Write a .po/.pot file the way pybabel does (width 76)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as fh:
        write_po(fh, catalog, width=76)
    tmp.replace(path)


def merge(pots: list[Path], out: Path) -> Catalog:
    """Union of templates; the first entry of a msgid wins, later locations are appended."""
    merged = load(pots[0])
    for pot in pots[1:]:
        for msg in load(pot):
            if not msg.id:
                continue
            mine = merged.get(msg.id, msg.context)
            if mine is None:
                merged[msg.id] = Message(
                    msg.id, "", locations=msg.locations, flags=msg.flags,
                    auto_comments=msg.auto_comments, context=msg.context,
                )
                continue
            mine.locations = list(mine.locations) + [loc for loc in msg.locations if loc not in mine.locations]
            mine.flags |= set(msg.flags)
            if isinstance(msg.id, tuple) and not isinstance(mine.id, tuple):
                mine.id = msg.id
    save(merged, out)
    return merged


def fix_header(path: Path) -> None:
    """Make the catalog header say Language: pl and the exact Polish Plural-Forms."""
    catalog = load(path)
    headers = dict(catalog.mime_headers)
    wanted = {**HEADER_DEFAULTS, **HEADERS}
    if all(headers.get(k) == v for k, v in wanted.items()):
        return
    headers.update(wanted)
    catalog.mime_headers = list(headers.items())
    save(catalog, path)


def restore_from_obsolete(path: Path) -> int:
    """Give back a translation whose msgid left the code and came back (update forgets it)."""
    catalog = load(path)
    restored = 0
    for msg in catalog:
        if not msg.id or not _untranslated(msg):
            continue
        old = catalog.obsolete.get(msg.id if not isinstance(msg.id, tuple) else msg.id[0])
        if old is not None and old.id == msg.id and not _untranslated(old):
            msg.string = old.string
            del catalog.obsolete[old.id if not isinstance(old.id, tuple) else old.id[0]]
            restored += 1
    if restored:
        save(catalog, path)
    return restored


def cmd_extract() -> int:
    """Extract app + FAB + WTForms msgids, merge them into messages.pot, update (or init) the pl catalog."""
    with tempfile.TemporaryDirectory() as tmp:
        app_pot = Path(tmp) / "app.pot"
        extract_app(app_pot)
        extract_fab(FAB_POT)
        extract_forms(FORMS_POT)
        merged = merge([app_pot, FAB_POT, FORMS_POT], POT)
    with catalog_lock():
        if PO.exists():
            run([pybabel(), "update", "-N", "--no-fuzzy-matching", "-i", str(POT), "-d", str(TRANSLATIONS),
                 "-l", LOCALE])
        else:
            run([pybabel(), "init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", LOCALE])
        fix_header(PO)
        restored = restore_from_obsolete(PO)
    missing = sum(1 for m in load(PO) if m.id and (_untranslated(m) or m.fuzzy))
    print(f"{len([m for m in merged if m.id])} msgids in {POT.relative_to(ROOT)}; "
          f"{restored} restored from obsolete; {missing} to translate in {PO.relative_to(ROOT)}")
    return 0


def cmd_compile() -> int:
    """Compile pl/messages.po into messages.mo next to it."""
    run([pybabel(), "compile", "-f", "-d", str(TRANSLATIONS)])
    print(f"compiled {PO.with_suffix('.mo').relative_to(ROOT)}")
    return 0


def _untranslated(msg: Message) -> bool:
    """True when the msgstr (or one of its plural forms) is empty."""
    if isinstance(msg.string, (tuple, list)):
        return not msg.string or any(not s for s in msg.string)
    return not msg.string


def placeholders(text: str, positional: bool = True) -> list[str]:
    """The placeholders of one string, sorted (repeats kept)."""
    found = NAMED_RE.findall(text) + BRACE_RE.findall(text)
    if positional:
        found += POSITIONAL_RE.findall(text.replace("%%", ""))
    return sorted(found)


def placeholder_problems(msg: Message) -> list[str]:
    """Forms of a translated message whose placeholders differ from the msgid's."""
    if not msg.id or _untranslated(msg):
        return []
    ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
    strings = msg.string if isinstance(msg.string, (tuple, list)) else (msg.string,)
    positional = "python-format" in msg.flags
    problems = []
    if len(ids) == 1:
        if set(placeholders(strings[0], positional)) != set(placeholders(ids[0], positional)):
            problems.append(strings[0])
        return problems
    singular, plural = (set(placeholders(i, positional)) for i in ids)
    for index, text in enumerate(strings):
        have = set(placeholders(text, positional))
        wanted_ok = have == plural if index > 0 else (singular & plural) <= have <= (singular | plural)
        if not wanted_ok:
            problems.append(text)
    return problems


def _ids(catalog: Iterable[Message]) -> dict[str, Message]:
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}


def _label(msg: Message) -> str:
    text = msg.id[0] if isinstance(msg.id, tuple) else msg.id
    where = ", ".join(f"{f}:{n}" for f, n in list(msg.locations)[:2])
    return f"{text!r}" + (f"  ({where})" if where else "")


def cmd_check() -> int:
    """List untranslated/fuzzy entries, bad placeholders, and msgids of app/, FAB or WTForms not in the catalog."""
    if not PO.exists():
        print(f"{PO.relative_to(ROOT)} does not exist: run `scripts/i18n.py extract`")
        return 1
    catalog = load(PO)
    problems: list[str] = []
    if dict(catalog.mime_headers).get("Language") != "pl":
        problems.append("header: Language is not pl")
    if dict(catalog.mime_headers).get("Plural-Forms") != HEADERS["Plural-Forms"]:
        problems.append("header: Plural-Forms is not the Polish 3-form rule")
    for msg in catalog:
        if not msg.id:
            continue
        if msg.fuzzy:
            problems.append(f"fuzzy: {_label(msg)}")
        elif _untranslated(msg):
            problems.append(f"untranslated: {_label(msg)}")
        for bad in placeholder_problems(msg):
            problems.append(f"placeholders differ: {_label(msg)} -> {bad!r}")
    known = _ids(catalog)
    with tempfile.TemporaryDirectory() as tmp:
        app_pot, fab_pot, forms_pot = (Path(tmp) / f"{n}.pot" for n in ("app", "fab", "forms"))
        extract_app(app_pot)
        extract_fab(fab_pot)
        extract_forms(forms_pot)
        for source, pot in (("app", app_pot), ("FAB", fab_pot), ("WTForms", forms_pot)):
            for key, msg in _ids(load(pot)).items():
                if key not in known:
                    problems.append(f"missing from catalog ({source}): {_label(msg)}")
                elif isinstance(msg.id, tuple) and not isinstance(known[key].id, tuple):
                    problems.append(f"plural forms missing in catalog ({source}): {_label(msg)}")
    total = len(known)
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} problem(s) in {PO.relative_to(ROOT)} ({total} msgids); "
              "run `scripts/i18n.py extract`, translate, then `scripts/i18n.py compile`")
        return 1
    print(f"{PO.relative_to(ROOT)}: {total} msgids, all translated")
    return 0


COMMANDS = {"extract": cmd_extract, "compile": cmd_compile, "check": cmd_check}


def main(argv: list[str]) -> int:
    """Dispatch the sub-command."""
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
