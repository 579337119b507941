"""Who may see and who may act in the workbench, and the plumbing every workbench view shares.

The "steward" group holds the action permissions, the "viewer" group only the view ones
(migration 0005); anyone else needs to be a superuser. The views check before calling a
service, and the services check again, so neither the admin nor the API can bypass them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse

from hub.services.errors import Conflict, InvalidInput, NotFound

VIEW_PERMISSION = "hub.view_reviewtask"
ACTION_PERMISSIONS = {
    "resolve": "hub.resolve_reviewtask",
    "merge": "hub.merge_entity",
    "split": "hub.split_entity",
    "undo": "hub.undo_action",
}


def can_view(user) -> bool:
    """Viewers, stewards and superusers may look at the workbench."""
    return bool(user.is_active and (user.is_superuser or user.has_perm(VIEW_PERMISSION)))


def can_act(user, action: str) -> bool:
    """Whether ``user`` holds the permission of ``action`` (resolve, merge, split, undo)."""
    return bool(user.is_active and user.has_perm(ACTION_PERMISSIONS[action]))


def allowed_actions(user) -> dict[str, bool]:
    """Each action and whether the user may take it: templates show buttons only for these."""
    return {action: can_act(user, action) for action in ACTION_PERMISSIONS}


def require_view(request) -> None:
    if not can_view(request.user):
        raise PermissionDenied("the workbench needs the viewer or steward group")


def require_action(request, action: str) -> None:
    """Refuse (403) a POST from a user without the action's permission."""
    require_view(request)
    if not can_act(request.user, action):
        raise PermissionDenied(f"this action needs {ACTION_PERMISSIONS[action]}")


def page(request, template: str, title: str, context: dict) -> TemplateResponse:
    """Render a workbench page inside the admin's frame (header, breadcrumbs, user tools)."""
    full = {**admin.site.each_context(request), "title": title,
            "actions_allowed": allowed_actions(request.user), **context}
    return TemplateResponse(request, f"admin/hub/workbench/{template}", full)


def service_call(request, service, **arguments):
    """Call a steward service; a refusal becomes a message on the next page, not an error page.

    Returns the service's result, or None when it refused (conflict, bad input, gone). A
    missing permission is not caught: it becomes a 403.
    """
    try:
        return service(user=request.user, **arguments)
    except Conflict as error:
        messages.error(request, str(error))
    except InvalidInput as error:
        details = "; ".join(f"{field}: {', '.join(map(str, reasons))}"
                            for field, reasons in error.errors.items())
        messages.error(request, f"Refused: {details}")
    except NotFound as error:
        messages.error(request, str(error) or "not found")
    return None


def int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("expected a number") from None
