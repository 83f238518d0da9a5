"""The campaign body: HTML from the editor cleaned with an allow-list, personal fields, text part, inlined CSS."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import css_inline
from flask_babel import lazy_gettext as _l
from inscriptis import get_text
from inscriptis.model.config import ParserConfig

#: tags the editor may produce; everything else is dropped (its text stays, except in DROP_WITH_CONTENT)
ALLOWED_TAGS = frozenset({
    "p", "br", "b", "strong", "i", "em", "u", "s", "a", "ul", "ol", "li", "h1", "h2", "h3", "blockquote",
    "img", "div", "span", "hr",
})
#: tags removed together with everything inside them
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript", "svg",
                               "math", "head", "title", "textarea", "select", "button"})
VOID_TAGS = frozenset({"br", "img", "hr"})
#: attributes kept per tag (every other attribute, e.g. on*, style, class, is dropped)
ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "width", "height"}),
}
#: URL schemes allowed in links and image sources
LINK_SCHEMES = ("http://", "https://", "mailto:")
IMAGE_SCHEMES = ("http://", "https://")

#: personal fields: the placeholder in the body and subject, its label in the editor
PERSONAL_FIELDS: dict[str, Any] = {
    "imie": _l("First name"),
    "nazwisko": _l("Last name"),
    "firma": _l("Company"),
}
_FIELD = re.compile(r"\{(imie|nazwisko|firma)\}")

#: the mail's own style sheet (inlined for mail clients, also kept in <style> for those that read it)
MAIL_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #222; }
a { color: #1565c0; }
img { max-width: 100%; height: auto; }
.crm-footer { margin-top: 24px; padding-top: 12px; border-top: 1px solid #ddd; font-size: 12px; color: #777; }
@media (max-width: 600px) { body { font-size: 16px; } }
"""

_INLINER = css_inline.CSSInliner(keep_style_tags=True)
_TEXT_CONFIG = ParserConfig(display_links=True)


class _Sanitizer(HTMLParser):
    """Rebuild HTML keeping only allowed tags and attributes with safe URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep an allowed tag with its allowed attributes."""
        if tag in DROP_WITH_CONTENT:
            if tag not in VOID_TAGS:
                self.skip_depth += 1
            return
        if self.skip_depth or tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            if name not in ALLOWED_ATTRS.get(tag, frozenset()) or value is None:
                continue
            value = value.strip()
            if name == "href" and not _safe_url(value, LINK_SCHEMES):
                continue
            if name == "src" and not _safe_url(value, IMAGE_SCHEMES):
                continue
            if name in ("width", "height") and not value.isdigit():
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        if tag == "img" and not any(k.startswith(" src=") for k in kept):
            return
        if tag == "a" and any(k.startswith(" href=") for k in kept):
            kept.append(' target="_blank" rel="noopener"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closed tag: only void tags make sense."""
        if tag in VOID_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """Close an open allowed tag (and whatever was left open inside it)."""
        if tag in DROP_WITH_CONTENT and tag not in VOID_TAGS:
            self.skip_depth = max(self.skip_depth - 1, 0)
            return
        if self.skip_depth or tag not in self.open:
            return
        while self.open:
            last = self.open.pop()
            self.out.append(f"</{last}>")
            if last == tag:
                break

    def handle_data(self, data: str) -> None:
        """Text is kept, escaped."""
        if not self.skip_depth:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        """The cleaned HTML with every open tag closed."""
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def _safe_url(value: str, schemes: tuple[str, ...]) -> bool:
    """True for an absolute URL of an allowed scheme (no javascript:, data:, relative paths)."""
    compact = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    return compact.startswith(schemes) and len(value) <= 2000


def sanitize(raw: str | None) -> str:
    """The editor's HTML reduced to the allow-list (tags, attributes, URL schemes)."""
    parser = _Sanitizer()
    parser.feed(raw or "")
    return parser.result().strip()


def has_content(clean_html: str) -> bool:
    """True when the cleaned body shows any text or image."""
    return bool(get_text(clean_html).strip()) or "<img" in clean_html


@dataclass(frozen=True)
class Personal:
    """The personal fields of one recipient."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""

    def values(self) -> dict[str, str]:
        """Placeholder -> value."""
        return {"imie": self.first_name, "nazwisko": self.last_name, "firma": self.company}


def fill(text: str, person: Personal, escape: bool) -> str:
    """Put the recipient's personal fields into a subject (plain) or a body (HTML-escaped)."""
    values = person.values()

    def repl(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return html.escape(value) if escape else value

    return _FIELD.sub(repl, text)


@dataclass(frozen=True)
class RenderedMail:
    """The two parts of one message."""

    html: str
    text: str


#: stands for the recipient's unsubscribe link while a campaign's message is prepared once for everybody
UNSUBSCRIBE_SLOT = "https://unsubscribe.invalid/klientela-slot"


def prepare(body_html: str, footer_html: str) -> RenderedMail:
    """The campaign's HTML (CSS inlined, style sheet kept) and text part, personal fields still unfilled.

    Made once per campaign and batch; :func:`personalise` fills it for each recipient.
    """
    page = (f'<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"><style>{MAIL_CSS}</style></head>'
            f'<body>{body_html}<div class="crm-footer">{footer_html}</div></body></html>')
    inlined = _INLINER.inline(page)
    return RenderedMail(inlined, get_text(inlined, _TEXT_CONFIG).strip() + "\n")


def personalise(prepared: RenderedMail, person: Personal, unsubscribe_link: str = "") -> RenderedMail:
    """One recipient's parts: personal fields (escaped in the HTML) and the unsubscribe link put in."""
    html_part = fill(prepared.html, person, escape=True).replace(UNSUBSCRIBE_SLOT, html.escape(unsubscribe_link))
    text_part = fill(prepared.text, person, escape=False).replace(UNSUBSCRIBE_SLOT, unsubscribe_link)
    return RenderedMail(html_part, text_part)


def render(body_html: str, person: Personal, footer_html: str, unsubscribe_link: str = "") -> RenderedMail:
    """One recipient's HTML and plain-text parts (see :func:`prepare`)."""
    return personalise(prepare(body_html, footer_html), person, unsubscribe_link)
