"""Sales (views): price list, offers, orders, totals, document numbers and their PDFs.

Modules: documents, offers, orders, products, sales_forms. Import them as ``from app.views.sales import <module>``.
"""
