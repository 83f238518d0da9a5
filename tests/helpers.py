"""Test helpers: valid Polish identifiers, login, CSRF-aware posting, and reading HTML pages.

Pages are read with lxml and CSS selectors, never with regular expressions: a test names the
element it means (``texts(html, "#settings-tabs li a")``) and survives attribute order, quoting,
whitespace and entity changes in the templates.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any, Iterable, Union

import lxml.html
from lxml.etree import _Comment, _ProcessingInstruction
from lxml.html import HtmlElement

_counter = itertools.count(1)
STRONG_PASSWORD = "Zielony-Słoń-Tańczy-42!"

#: a page as the tests get it: the response text, its bytes, or a page already parsed with page()
Html = Union[str, bytes, HtmlElement]


def make_nip(seed: int | None = None) -> str:
    """A NIP with a valid check digit (deterministic per seed)."""
    rnd = random.Random(seed if seed is not None else next(_counter) * 7919)
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def make_regon9(seed: int) -> str:
    """A 9-digit REGON with a valid check digit."""
    rnd = random.Random(seed)
    weights = (8, 9, 2, 3, 4, 5, 6, 7)
    digits = [rnd.randint(0, 9) for _ in range(8)]
    check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def login(client: Any, email: str, password: str = STRONG_PASSWORD) -> Any:
    """Sign in through the real login form."""
    return client.post("/login/", data={"username": email, "password": password}, follow_redirects=False)


def logout(client: Any) -> Any:
    """Sign out (POST)."""
    return client.post("/logout/")


# --- reading pages ---------------------------------------------------------------------------


def page(html: Html) -> HtmlElement:
    """The parsed page (the root <html> element); an element passed in is returned as it is."""
    if isinstance(html, HtmlElement):
        return html
    assert html and str(html).strip(), "the page is empty"
    return lxml.html.document_fromstring(html)


def find(html: Html, css: str) -> list[HtmlElement]:
    """Every element matching a CSS selector, in page order."""
    return page(html).cssselect(css)


def find_one(html: Html, css: str) -> HtmlElement:
    """The one element matching a CSS selector (fails when there are none or several)."""
    found = find(html, css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}, expected one"
    return found[0]


def _clean(text: str) -> str:
    return " ".join(text.split())


def texts(html: Html, css: str) -> list[str]:
    """The text of each element matching a CSS selector, whitespace collapsed."""
    return [_clean(el.text_content()) for el in find(html, css)]


def text(html: Html, css: str) -> str:
    """The text of the one element matching a CSS selector, whitespace collapsed."""
    return _clean(find_one(html, css).text_content())


def links(html: Html, css: str = "a") -> list[str]:
    """The href of each element matching a CSS selector (entities decoded: "&amp;" is "&")."""
    return [el.get("href") for el in find(html, css) if el.get("href") is not None]


def link(html: Html, css: str) -> str:
    """The href of the one element matching a CSS selector."""
    href = find_one(html, css).get("href")
    assert href is not None, f"{css!r} has no href"
    return href


def table_rows(html: Html, table_selector: str = "table") -> list[list[str]]:
    """The data rows (those with <td> cells) of the one table matching a selector, as cell texts."""
    table = find_one(html, table_selector)
    rows = [tr for tr in table.iter("tr") if tr.find("td") is not None]
    return [[_clean(cell.text_content()) for cell in tr if cell.tag in ("td", "th")] for tr in rows]


def _form(html: Html, form_selector: str) -> HtmlElement:
    """The first form matching a selector, without the <template> rows a browser does not send."""
    forms = find(html, form_selector)
    assert forms, f"no form matches {form_selector!r}"
    form = copy.deepcopy(forms[0])
    for tpl in list(form.iter("template")):
        tpl.drop_tree()
    return form


def form_values(html: Html, form_selector: str = "form") -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would send from a form, in order (checked boxes only)."""
    return list(_form(html, form_selector).form_values())


def form_fields(html: Html, form_selector: str = "form") -> dict[str, str]:
    """What a browser would send from a form, by field name (a repeated name keeps its first value)."""
    out: dict[str, str] = {}
    for name, value in form_values(html, form_selector):
        out.setdefault(name, value)
    return out


def field_values(html: Html, name: str, form_selector: str = "form") -> list[str]:
    """Every value a browser would send for one (repeated) field name of a form."""
    return [value for key, value in form_values(html, form_selector) if key == name]


def csrf_token(html: Html, form_selector: str | None = None) -> str:
    """The CSRF token of the first form on a page (or of the first form matching a selector)."""
    scope = find_one(html, form_selector) if form_selector else page(html)
    inputs = scope.cssselect('input[name="csrf_token"]')
    assert inputs and inputs[0].get("value"), "no CSRF token on the page"
    return inputs[0].get("value")


def _select(html: Html, select_name: str) -> HtmlElement:
    found = find(html, f'select[name="{select_name}"]')
    assert found, f"no <select name={select_name!r}> on the page"
    return found[0]


def option_values(html: Html, select_name: str) -> list[str]:
    """The values of the options of a <select> (the first one with that name)."""
    return [opt.get("value", _clean(opt.text_content())) for opt in _select(html, select_name).iter("option")]


def option_labels(html: Html, select_name: str) -> list[str]:
    """The visible labels of the options of a <select> (the first one with that name)."""
    return [_clean(opt.text_content()) for opt in _select(html, select_name).iter("option")]


def selected_values(html: Html, select_name: str) -> list[str]:
    """The values of the options marked selected in a <select>."""
    return [opt.get("value", _clean(opt.text_content())) for opt in _select(html, select_name).iter("option")
            if opt.get("selected") is not None]


#: attributes whose text a user sees (tooltips, placeholders, button values, alt texts, screen readers)
SHOWN_ATTRIBUTES = ("title", "placeholder", "value", "alt", "aria-label")


def visible_text(html: Html, drop: Iterable[str] = ()) -> str:
    """All the text a user can meet on a page: text, tooltips, placeholders, values, alt texts.

    Leaves out <head>, scripts, styles and hidden inputs, and the elements matching ``drop``
    (CSS selectors). Element boundaries become spaces; whitespace is collapsed.
    """
    root = copy.deepcopy(page(html))
    for css in drop:
        for el in root.cssselect(css):
            el.drop_tree()
    parts: list[str] = []

    def walk(el: Any) -> None:
        if isinstance(el, (_Comment, _ProcessingInstruction)):
            pass
        elif el.tag in ("head", "script", "style") or (el.tag == "input" and el.get("type") == "hidden"):
            pass
        else:
            parts.extend(el.get(attr) for attr in SHOWN_ATTRIBUTES if el.get(attr))
            parts.append(el.text or "")
            for child in el:
                walk(child)
        parts.append(el.tail or "")

    walk(root)
    return _clean(" ".join(parts))


def markup_without(html: Html, drop: Iterable[str] = ("script", "style")) -> str:
    """The page's markup with the elements matching the CSS selectors taken out."""
    root = copy.deepcopy(page(html))
    for css in drop:
        for el in root.cssselect(css):
            el.drop_tree()
    return lxml.html.tostring(root, encoding="unicode")
