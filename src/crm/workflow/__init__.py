"""Collection Workflow."""
