"""Django app configuration of the hub's core app."""

from django.apps import AppConfig


class HubConfig(AppConfig):
    """The core app: models, services, selectors, API and admin of the customer hub."""

    name = "hub"
    verbose_name = "Customer hub"
    default_auto_field = "django.db.models.BigAutoField"
