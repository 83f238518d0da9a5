"""Invoicing views: invoices, KSeF sending and settings, purchase invoices."""
