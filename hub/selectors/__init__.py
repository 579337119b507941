"""Selectors: reads shared by the API and the admin."""
