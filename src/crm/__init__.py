"""Collection CRM: bank synchronization, payment processing and collection workflow."""

__version__ = "0.1.0"
