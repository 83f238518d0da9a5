"""The PDF engine adapter: WeasyPrint by default, pdfkit only when configured AND installed."""

import shutil

from app.integrations import pdf


def test_default_engine_is_weasyprint_and_renders_polish_text():
    engine = pdf.get_engine("weasyprint")
    assert engine.name == "weasyprint"
    data = engine.render('<html><body style="font-family: \'DejaVu Sans\'">Zażółć gęślą jaźń</body></html>')
    assert data.startswith(b"%PDF")


def test_pdfkit_falls_back_to_weasyprint_when_not_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert pdf.get_engine("pdfkit").name == "weasyprint"


def test_pdfkit_is_used_when_installed(monkeypatch):
    monkeypatch.setattr(pdf.PdfkitEngine, "available", staticmethod(lambda binary=None: True))
    engine = pdf.get_engine("pdfkit", binary="/usr/bin/wkhtmltopdf")
    assert engine.name == "pdfkit" and engine.binary == "/usr/bin/wkhtmltopdf"
