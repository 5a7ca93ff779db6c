"""What every synchronized record shares, whichever entity package it belongs to.

The bottom of bank-sync's layers (pyproject.toml): the source systems and entity types, the
SynchronizedEntity columns and read fields, the sync-state snapshot times that date each record,
and paging. It imports nothing of bank-sync but the declarative base.
"""
