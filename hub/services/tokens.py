"""API tokens for applications and scripts."""

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from hub.services.events import event_record


@transaction.atomic
def token_issue(*, username: str) -> tuple[str, bool]:
    """Return the API token of ``username``, creating the user (without a usable password) and
    the token when missing. Idempotent: the same token is returned on every call."""
    user, user_created = get_user_model().objects.get_or_create(username=username)
    if user_created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    token, created = Token.objects.get_or_create(user=user)
    if created:
        event_record(kind="token.issued", payload={"user_id": user.pk})
    return token.key, user_created
