"""``manage.py issue_token USERNAME``: print an API token, creating the user if needed."""

from django.core.management.base import BaseCommand

from hub.services.tokens import token_issue


class Command(BaseCommand):
    help = ("Create the user if needed and print its API token "
            "(use it as 'Authorization: Token <token>'). Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        key, _created = token_issue(username=username)
        self.stdout.write(key)
