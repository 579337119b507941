"""The review queue: open tasks by priority, with filters, counts, claim and release."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hub.admin.workbench.access import page, require_action, require_view, service_call
from hub.selectors import workbench as selectors
from hub.services import steward

QUEUE_FILTERS = ("source", "band", "age", "assignee", "order")
PAGE_SIZE = 50


def queue_params(data) -> dict[str, str]:
    """The queue's filter and order values from a query string or a form (blank = any)."""
    return {name: str(data.get(name, "") or "")[:64] for name in QUEUE_FILTERS}


def queue_querystring(params: dict[str, str]) -> str:
    """The non-blank filters as a query string, carried from the queue to task pages."""
    return urlencode({k: v for k, v in params.items() if v})


def ordered_tasks(user, params: dict[str, str], thresholds: selectors.Thresholds):
    """Open tasks after the steward's filters, in the chosen order (priority by default)."""
    tasks = selectors.tasks_filter(
        selectors.tasks_open(), thresholds=thresholds, user=user, source=params["source"],
        band=params["band"], age=params["age"], assignee=params["assignee"])
    return selectors.tasks_order(tasks, thresholds=thresholds,
                                 order=params["order"] or "priority")


def queue_view(request):
    """GET: the queue page."""
    require_view(request)
    params = queue_params(request.GET)
    thresholds = selectors.thresholds_current()
    tasks = ordered_tasks(request.user, params, thresholds)
    paginator = Paginator(tasks, PAGE_SIZE)
    current = paginator.get_page(request.GET.get("page"))
    querystring = queue_querystring(params)
    return page(request, "queue.html", "Review queue", {
        "counts": selectors.queue_counts(user=request.user),
        "tasks": current,
        "params": params,
        "querystring": querystring,
        "thresholds": thresholds,
        "sources": selectors.queue_sources(),
        "assignees": selectors.queue_assignees(),
        "bands": selectors.SCORE_BANDS,
        "ages": selectors.AGES,
        "orders": selectors.ORDERS,
        "here": request.get_full_path(),
    })


def _back(request, task_id: int):
    """Where a claim or release returns to: the page it came from, else the task page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(reverse("admin:workbench_task", args=[task_id]))


@require_POST
def claim_view(request, task_id: int):
    """POST: take the task so other stewards see it is being worked on."""
    require_action(request, "resolve")
    service_call(request, steward.review_task_claim, task_id=task_id)
    return _back(request, task_id)


@require_POST
def release_view(request, task_id: int):
    """POST: give the task back to the queue."""
    require_action(request, "resolve")
    service_call(request, steward.review_task_release, task_id=task_id)
    return _back(request, task_id)
