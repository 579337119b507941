"""The task page: both sides compared, the score explained, and the steward's verdict."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from hub.admin.workbench import charts
from hub.admin.workbench.access import page, require_action, require_view, service_call
from hub.admin.workbench.queue import ordered_tasks, queue_params, queue_querystring
from hub.models import ReviewTask
from hub.selectors import workbench as selectors
from hub.services import federation, steward
from hub.services.errors import NotFound

VERDICTS = {"same": "linked (same person)", "different": "marked not a match"}


def _task_url(task_id: int, querystring: str) -> str:
    url = reverse("admin:workbench_task", args=[task_id])
    return f"{url}?{querystring}" if querystring else url


def _queue_url(querystring: str) -> str:
    url = reverse("admin:workbench_queue")
    return f"{url}?{querystring}" if querystring else url


def task_view(request, task_id: int):
    """GET: one task, both records side by side, the waterfall and the other members."""
    require_view(request)
    task = selectors.task_get(task_id)
    if task is None:
        raise Http404("no such review task")
    params = queue_params(request.GET)
    querystring = queue_querystring(params)
    thresholds = selectors.thresholds_current()
    previous_id, next_id = selectors.tasks_neighbours(
        ordered_tasks(request.user, params, thresholds), task.pk)
    left = task.source_record
    right = selectors.task_candidate_record(task)
    left_entity = left.entity_id
    right_entity = task.candidate_entity_id
    return page(request, "task.html", f"Review task {task.pk}", {
        "task": task,
        "is_open": task.state == ReviewTask.State.OPEN,
        "left": left,
        "right": right,
        "left_entity": left_entity,
        "right_entity": right_entity,
        "rows": selectors.attribute_rows(left, right),
        "chart": charts.waterfall(task.explanation or {}, review=thresholds.review,
                                  auto_link=thresholds.auto_link),
        "thresholds": thresholds,
        "above_review": round(task.score - thresholds.review, 2),
        "below_auto": round(thresholds.auto_link - task.score, 2),
        "left_members": selectors.entity_members(left_entity, exclude_ids=[left.pk]),
        "right_members": selectors.entity_members(
            right_entity, exclude_ids=[right.pk if right else None]),
        "previous_url": _task_url(previous_id, querystring) if previous_id else "",
        "next_url": _task_url(next_id, querystring) if next_id else "",
        "queue_url": _queue_url(querystring),
        "querystring": querystring,
        # Both sides' entities (once if they are the same; none for a deleted record).
        "source_record_urls": [reverse("admin:workbench_source_records", args=[gid])
                               for gid in dict.fromkeys([left_entity, right_entity]) if gid],
        "here": request.get_full_path(),
        "explanation_version": (task.explanation or {}).get("model_version",
                                                            task.model_version),
        "blocking_rules": (task.explanation or {}).get("blocking_rules", []),
    })


@require_POST
def resolve_view(request, task_id: int):
    """POST verdict=same|different: decide the task, then go on to the next one in the queue."""
    require_action(request, "resolve")
    verdict = request.POST.get("verdict", "")
    if verdict not in VERDICTS:
        messages.error(request, "Choose a verdict: same or different.")
        return redirect(reverse("admin:workbench_task", args=[task_id]))
    # The queue's filters travel as one query string so "next" follows the steward's view.
    params = queue_params(QueryDict(request.POST.get("queue", "")))
    querystring = queue_querystring(params)
    thresholds = selectors.thresholds_current()
    # The queue as it stood before the decision: the steward moves on to the task that was
    # after this one, skipping any that the decision made moot.
    queue_ids = list(ordered_tasks(request.user, params, thresholds)
                     .values_list("id", flat=True))
    task = service_call(request, steward.review_task_resolve, task_id=task_id, verdict=verdict)
    if task is None:
        return redirect(_task_url(task_id, querystring))
    messages.success(request, f"Task {task_id} {VERDICTS[verdict]}.")
    position = queue_ids.index(task_id) + 1 if task_id in queue_ids else 0
    still_open = set(ReviewTask.objects.filter(pk__in=queue_ids[position:],
                                               state=ReviewTask.State.OPEN)
                     .values_list("id", flat=True))
    following = next((pk for pk in queue_ids[position:] if pk in still_open), None)
    if following is None:
        return redirect(_queue_url(querystring))
    return redirect(_task_url(following, querystring))


def source_records_view(request, golden_id: str):
    """GET (JSON): the entity's full records, fetched live from each source, with per-source
    status. The federation service records the access; nothing fetched is stored."""
    require_view(request)
    try:
        result = federation.entity_records_fetch(golden_id=golden_id, actor=request.user)
    except NotFound:
        return JsonResponse({"error": "no entity with this golden ID"}, status=404)
    return JsonResponse({"golden_id": result.golden_id, "blocks": result.blocks})
