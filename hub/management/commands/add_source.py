"""``manage.py add_source CODE [--name NAME]``: register a source system (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from hub.services.errors import InvalidInput
from hub.services.sources import source_add


class Command(BaseCommand):
    help = "Register a source system by its code. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("code", help="short stable code, e.g. crm")
        parser.add_argument("--name", default="", help="human-readable name")

    def handle(self, *args, code, name, **options):
        try:
            source, created = source_add(code=code, name=name)
        except InvalidInput as error:
            raise CommandError(f"code: {'; '.join(error.errors['code'])}") from error
        verb = "added" if created else "already registered"
        self.stdout.write(f"source {source.code} {verb}")
