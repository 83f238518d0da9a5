"""PDF engine adapter: HTML in, PDF bytes out.

WeasyPrint is the default (paged CSS, "Strona X z Y", ~100 ms a page). pdfkit + wkhtmltopdf is
used only when ``PDF_ENGINE = "pdfkit"`` is configured AND both the Python package and the
``wkhtmltopdf`` binary are installed; otherwise WeasyPrint renders (and a warning is logged).
Both need a font on the system (fonts-dejavu-core); templates name "DejaVu Sans".
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)


class PdfEngine(Protocol):
    """What an engine does: render one HTML document to PDF bytes."""

    name: str

    def render(self, html: str, base_url: str | None = None) -> bytes:
        """Render HTML to PDF."""


class WeasyPrintEngine:
    """The default engine."""

    name = "weasyprint"

    def render(self, html: str, base_url: str | None = None) -> bytes:
        """Render HTML to PDF with WeasyPrint."""
        from weasyprint import HTML  # imported on use: heavy (pango), and only PDF requests need it

        return HTML(string=html, base_url=base_url).write_pdf()


class PdfkitEngine:
    """Optional engine: wkhtmltopdf through pdfkit (no page-number footers with unpatched Qt)."""

    name = "pdfkit"

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("wkhtmltopdf")

    @staticmethod
    def available(binary: str | None = None) -> bool:
        """True when pdfkit and the wkhtmltopdf binary are both installed."""
        return importlib.util.find_spec("pdfkit") is not None and bool(binary or shutil.which("wkhtmltopdf"))

    def render(self, html: str, base_url: str | None = None) -> bytes:
        """Render HTML to PDF with wkhtmltopdf."""
        import pdfkit  # optional dependency (the pdfkit engine)

        config = pdfkit.configuration(wkhtmltopdf=self.binary)
        options = {"encoding": "UTF-8", "quiet": "", "page-size": "A4", "disable-smart-shrinking": ""}
        return pdfkit.from_string(html, False, configuration=config, options=options)


def get_engine(name: str | None = None, binary: str | None = None) -> PdfEngine:
    """The configured engine (``PDF_ENGINE``), falling back to WeasyPrint when pdfkit is missing."""
    if name is None:
        try:
            name = current_app.config.get("PDF_ENGINE", "weasyprint")
            binary = binary or current_app.config.get("WKHTMLTOPDF_BINARY")
        except RuntimeError:
            name = "weasyprint"
    if name == "pdfkit":
        if PdfkitEngine.available(binary):
            return PdfkitEngine(binary)
        log.warning("PDF_ENGINE=pdfkit but pdfkit or wkhtmltopdf is not installed; using WeasyPrint")
    return WeasyPrintEngine()


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render HTML to PDF with the configured engine."""
    return get_engine().render(html, base_url=base_url)
