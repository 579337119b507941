"""The entity page ("customer 360" for stewards), and merge, split and undo from it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hub.admin.workbench.access import (
    int_or_404,
    page,
    require_action,
    require_view,
    service_call,
)
from hub.selectors import workbench as selectors
from hub.selectors.entities import entity_get, entity_open_task_count
from hub.services import steward


def _entity_url(golden_id: str) -> str:
    return reverse("admin:workbench_entity", args=[golden_id])


def entity_view(request, golden_id: str):
    """GET: golden ID and state, lineage, cross-references, decisions and the event timeline."""
    require_view(request)
    entity = entity_get(golden_id)
    if entity is None:
        raise Http404("no entity with this golden ID")
    lineage = selectors.entity_lineage(entity)
    record_ids = selectors.entity_record_ids(entity.golden_id)
    timeline = selectors.entity_timeline([entity.golden_id, *lineage["merged_from"]], record_ids)
    # The service decides what can be undone: an automatic merge (real-time or batch) has the
    # kind of a steward's merge but nothing to undo it from.
    undoable = [e.pk for e in timeline if steward.event_is_undoable(e)]
    undone = selectors.events_undone(undoable)
    return page(request, "entity.html", f"Customer {entity.golden_id}", {
        "entity": entity,
        "lineage": lineage,
        "links": selectors.entity_links_detailed(entity.golden_id),
        "decisions": list(selectors.entity_decisions(record_ids)[:100]),
        "timeline": [{"event": e, "undoable": e.pk in undoable and e.pk not in undone,
                      "undone": e.pk in undone} for e in timeline],
        "open_tasks": entity_open_task_count(entity.golden_id),
        "here": request.get_full_path(),
    })


def entity_lookup_view(request):
    """GET ?golden_id=...: open a customer by golden ID (a merged ID opens its own page, which
    points at the survivor)."""
    require_view(request)
    golden_id = request.GET.get("golden_id", "").strip().upper()
    if golden_id and entity_get(golden_id) is not None:
        return redirect(_entity_url(golden_id))
    messages.error(request, "No customer with that golden ID.")
    return redirect(reverse("admin:workbench_queue"))


@require_POST
def merge_view(request, golden_id: str):
    """POST other_id: merge the other entity into this one (this golden ID survives)."""
    require_action(request, "merge")
    other_id = request.POST.get("other_id", "").strip().upper()
    if not other_id or other_id == golden_id:
        messages.error(request, "Give the golden ID of another entity to merge into this one.")
        return redirect(_entity_url(golden_id))
    expected = {}
    if request.POST.get("version", "").isdigit():
        # The version the steward was looking at: a change since then refuses the merge.
        expected[golden_id] = int(request.POST["version"])
    survivor = service_call(request, steward.entity_merge, survivor_id=golden_id,
                            victim_id=other_id, expected_versions=expected or None)
    if survivor is not None:
        messages.success(request, f"{other_id} merged into {survivor.golden_id}. "
                                  "Undo it from the timeline below.")
    return redirect(_entity_url(golden_id))


@require_POST
def split_view(request, record_id: int):
    """POST: move one record out of its entity into a new one (a new golden ID)."""
    require_action(request, "split")
    version = request.POST.get("version", "")
    back = request.POST.get("entity", "")
    new_entity = service_call(request, steward.record_split, record_id=record_id,
                              expected_entity_version=int(version) if version.isdigit() else None)
    if new_entity is None:
        return redirect(_entity_url(back) if back else reverse("admin:workbench_queue"))
    messages.success(request, f"Record {record_id} split out into {new_entity.golden_id}.")
    return redirect(_entity_url(new_entity.golden_id))


@require_POST
def undo_view(request, event_id: int):
    """POST: undo the steward action that event ``event_id`` recorded."""
    require_action(request, "undo")
    event_id = int_or_404(event_id)
    result = service_call(request, steward.action_undo, event_id=event_id)
    if result is not None:
        messages.success(request, f"Undone: event {event_id}.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(reverse("admin:workbench_queue"))
