"""Adapters to the outside world (mail, PDF, storage, payments)."""
