"""Django app configuration of the hub's core app."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HubConfig(AppConfig):
    """The core app: models, services, selectors, API and admin of the customer hub."""

    name = "hub"
    verbose_name = "Customer hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The steward and viewer groups are data, not schema: a flushed database (tests with
        # live servers, a reset demo) gets them back on the next migrate.
        from hub import lookups  # noqa: F401  (registers the __any lookup)
        from hub.services.steward_groups import steward_groups_on_migrate

        post_migrate.connect(steward_groups_on_migrate, sender=self)
