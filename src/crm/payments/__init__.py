"""Payment Processing: real-time notifications, recording, reconciliation, receipts."""
