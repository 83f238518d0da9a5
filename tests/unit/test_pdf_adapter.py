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


def test_configured_pdfkit_engine_renders_through_wkhtmltopdf(monkeypatch, app):
    """PDF_ENGINE=pdfkit with pdfkit and wkhtmltopdf present: render_pdf goes through pdfkit, A4, UTF-8."""
    import importlib.machinery
    import sys
    import types

    calls = {}
    fake = types.ModuleType("pdfkit")
    fake.__spec__ = importlib.machinery.ModuleSpec("pdfkit", None)
    fake.configuration = lambda wkhtmltopdf: {"bin": wkhtmltopdf}

    def from_string(html, out, configuration, options):
        calls.update(html=html, out=out, configuration=configuration, options=options)
        return b"%PDF-fake"

    fake.from_string = from_string
    monkeypatch.setitem(sys.modules, "pdfkit", fake)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/local/bin/wkhtmltopdf" if name == "wkhtmltopdf" else None)
    monkeypatch.setitem(app.config, "PDF_ENGINE", "pdfkit")
    with app.app_context():
        assert pdf.render_pdf("<p>Zażółć</p>") == b"%PDF-fake"
    assert calls["html"] == "<p>Zażółć</p>" and calls["out"] is False
    assert calls["configuration"] == {"bin": "/usr/local/bin/wkhtmltopdf"}
    assert calls["options"]["encoding"] == "UTF-8" and calls["options"]["page-size"] == "A4"
