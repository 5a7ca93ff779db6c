"""The web UI: agent workbench and supervisor console, a backend-for-frontend over the services' APIs."""
