"""Payment receipts: a one-page PDF (or its data as JSON) with a verification code."""
