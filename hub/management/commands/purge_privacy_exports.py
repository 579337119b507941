"""``manage.py purge_privacy_exports``: delete export bundles whose link has expired."""

from django.core.management.base import BaseCommand

from hub.services.privacy_export import privacy_exports_purge


class Command(BaseCommand):
    help = "Delete privacy export bundles whose download link has expired."

    def handle(self, *args, **options):
        self.stdout.write(f"expired exports deleted: {privacy_exports_purge()}")
