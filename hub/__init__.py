"""The customer hub: Django project and core app."""
