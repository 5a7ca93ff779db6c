"""Reconciliation: the core systems' payments of a business date against the CRM's."""
