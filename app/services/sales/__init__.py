"""Sales: price list, offers, orders, totals, document numbers and their PDFs.

Modules: delivery, documents, numbering, offers, orders, pricing, products, sales_pdf. Import them as ``from app.services.sales import <module>``.
"""
