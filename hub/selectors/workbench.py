"""Reads for the steward workbench: the review queue, a task's two sides, an entity's history,
and the dashboard's aggregates.

Queue reads are small functions that take and return querysets, so a view chains exactly the
filters and order the steward asked for. Every dashboard figure is one grouped query, so the
dashboard costs the same handful of queries for a thousand records or ten million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Abs, Floor, Least, TruncDate
from django.utils import timezone

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.match_config import active_match_config
from linkage.attributes import CANONICAL_ATTRIBUTES

SCORE_BANDS = {
    "below": "below the review threshold",
    "low": "lower half of the review band",
    "high": "upper half of the review band",
    "above": "above the auto-link threshold",
}
AGES = {"day": "under a day", "week": "1 to 7 days", "older": "over 7 days"}
ORDERS = {
    "priority": "closest to a threshold, oldest first",
    "oldest": "oldest first",
    "newest": "newest first",
    "score_desc": "highest score first",
    "score_asc": "lowest score first",
}


@dataclass(frozen=True)
class Thresholds:
    """The two match-weight thresholds in force (bits)."""

    review: float
    auto_link: float

    @property
    def middle(self) -> float:
        return (self.review + self.auto_link) / 2


def thresholds_current() -> Thresholds:
    """The thresholds of the match model in force (settings overrides included)."""
    config = active_match_config()
    return Thresholds(review=config.review_threshold, auto_link=config.auto_link_threshold)


# --- the queue ---------------------------------------------------------------------------------

def tasks_open() -> QuerySet[ReviewTask]:
    """Open review tasks with what a queue row shows loaded in the same query."""
    return (ReviewTask.objects.filter(state=ReviewTask.State.OPEN)
            .select_related("source_record__source", "candidate_record__source", "assignee"))


def tasks_filter(tasks: QuerySet[ReviewTask], *, thresholds: Thresholds, user,
                 source: str = "", band: str = "", age: str = "",
                 assignee: str = "") -> QuerySet[ReviewTask]:
    """Narrow ``tasks`` by source (either side), score band, age and assignee.

    Unknown filter values are ignored rather than refused: they come from a query string a
    steward may have edited by hand.
    """
    if source:
        tasks = tasks.filter(Q(source_record__source__code=source)
                             | Q(candidate_record__source__code=source))
    if band == "below":
        tasks = tasks.filter(score__lt=thresholds.review)
    elif band == "low":
        tasks = tasks.filter(score__gte=thresholds.review, score__lt=thresholds.middle)
    elif band == "high":
        tasks = tasks.filter(score__gte=thresholds.middle, score__lt=thresholds.auto_link)
    elif band == "above":
        tasks = tasks.filter(score__gte=thresholds.auto_link)
    now = timezone.now()
    if age == "day":
        tasks = tasks.filter(created_at__gte=now - timedelta(days=1))
    elif age == "week":
        tasks = tasks.filter(created_at__lt=now - timedelta(days=1),
                             created_at__gte=now - timedelta(days=7))
    elif age == "older":
        tasks = tasks.filter(created_at__lt=now - timedelta(days=7))
    if assignee == "me":
        tasks = tasks.filter(assignee=user)
    elif assignee == "unassigned":
        tasks = tasks.filter(assignee=None)
    elif assignee == "others":
        tasks = tasks.exclude(assignee=None).exclude(assignee=user)
    elif assignee:
        tasks = tasks.filter(assignee__username=assignee)
    return tasks


def tasks_order(tasks: QuerySet[ReviewTask], *, thresholds: Thresholds,
                order: str = "priority") -> QuerySet[ReviewTask]:
    """Order ``tasks``; "priority" puts the scores nearest a threshold first (the decisions
    that move the model's error rate most), then the oldest. Ties end on the id so that
    "next" and "previous" are well defined."""
    if order == "oldest":
        return tasks.order_by("created_at", "id")
    if order == "newest":
        return tasks.order_by("-created_at", "-id")
    if order == "score_desc":
        return tasks.order_by("-score", "created_at", "id")
    if order == "score_asc":
        return tasks.order_by("score", "created_at", "id")
    distance = Least(Abs(F("score") - thresholds.review), Abs(F("score") - thresholds.auto_link))
    return tasks.annotate(threshold_distance=distance).order_by(
        "threshold_distance", "created_at", "id")


def tasks_neighbours(ordered: QuerySet[ReviewTask], task_id: int) -> tuple[int | None, int | None]:
    """The ids before and after ``task_id`` in ``ordered`` (None at either end or if absent).

    Only ids are read, so this stays cheap for queues of tens of thousands of tasks.
    """
    ids = list(ordered.values_list("id", flat=True))
    try:
        position = ids.index(task_id)
    except ValueError:
        return None, ids[0] if ids else None
    previous = ids[position - 1] if position > 0 else None
    following = ids[position + 1] if position + 1 < len(ids) else None
    return previous, following


def queue_counts(*, user) -> dict:
    """The numbers at the top of the queue: open, claimed (and by me), resolved today."""
    start_of_day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = ReviewTask.objects.aggregate(
        open=Count("id", filter=Q(state=ReviewTask.State.OPEN)),
        claimed=Count("id", filter=Q(state=ReviewTask.State.OPEN, assignee__isnull=False)),
        mine=Count("id", filter=Q(state=ReviewTask.State.OPEN, assignee=user.pk)),
        resolved_today=Count("id", filter=Q(state=ReviewTask.State.RESOLVED,
                                            resolved_at__gte=start_of_day)),
    )
    return counts


def queue_assignees() -> list[str]:
    """Usernames holding at least one open task (for the assignee filter)."""
    return sorted(set(ReviewTask.objects.filter(state=ReviewTask.State.OPEN,
                                                assignee__isnull=False)
                      .values_list("assignee__username", flat=True)))


def queue_sources() -> list[str]:
    """Codes of the sources that appear in open tasks, on either side."""
    open_tasks = ReviewTask.objects.filter(state=ReviewTask.State.OPEN)
    codes = set(open_tasks.values_list("source_record__source__code", flat=True))
    codes |= set(open_tasks.exclude(candidate_record=None)
                 .values_list("candidate_record__source__code", flat=True))
    return sorted(codes)


# --- a task's two sides ------------------------------------------------------------------------

def task_get(task_id: int) -> ReviewTask | None:
    """One task with both records, their sources and the people involved."""
    return (ReviewTask.objects
            .select_related("source_record__source", "source_record__entity",
                            "candidate_record__source", "candidate_entity", "assignee",
                            "resolved_by")
            .filter(pk=task_id).first())


def task_candidate_record(task: ReviewTask) -> SourceRecord | None:
    """The record the task compares with: the stored best match, or else (if that record has
    since gone) the candidate entity's most trusted active record."""
    record = task.candidate_record
    if record is not None and record.state == SourceRecord.State.ACTIVE:
        return record
    return (SourceRecord.objects.select_related("source")
            .filter(entity_id=task.candidate_entity_id, state=SourceRecord.State.ACTIVE)
            .order_by("source__trust_rank", "id").first()) or record


@dataclass(frozen=True)
class AttributeRow:
    """One key attribute of both sides, as received and standardised, and how they compare."""

    name: str
    left_received: str
    left_standardised: str
    right_received: str
    right_standardised: str
    status: str  # "same", "differs", "one_missing" or "missing"


def attribute_rows(left: SourceRecord | None, right: SourceRecord | None) -> list[AttributeRow]:
    """Every canonical key attribute of the two records, compared on the standardised values."""
    rows = []
    for name in CANONICAL_ATTRIBUTES:
        values = []
        for record in (left, right):
            received = str((record.attributes if record else {}).get(name) or "")
            standardised = str((record.standardised if record else {}).get(name) or "")
            values += [received, standardised]
        left_std, right_std = values[1], values[3]
        if not left_std and not right_std:
            status = "missing"
        elif not left_std or not right_std:
            status = "one_missing"
        else:
            status = "same" if left_std == right_std else "differs"
        rows.append(AttributeRow(name, values[0], left_std, values[2], right_std, status))
    return rows


def entity_members(golden_id: str | None, *, exclude_ids=()) -> list[SourceRecord]:
    """Active records of an entity (except ``exclude_ids``), most trusted source first."""
    if not golden_id:
        return []
    return list(SourceRecord.objects.select_related("source")
                .filter(entity_id=golden_id, state=SourceRecord.State.ACTIVE)
                .exclude(pk__in=[pk for pk in exclude_ids if pk])
                .order_by("source__trust_rank", "source__code", "source_key")[:50])


# --- an entity's 360 view ----------------------------------------------------------------------

def entity_links_detailed(golden_id: str) -> QuerySet[Link]:
    """Current links of the entity's active records with who made each one."""
    return (Link.objects.filter(entity_id=golden_id, ended_at=None,
                                source_record__state=SourceRecord.State.ACTIVE)
            .select_related("source_record__source", "created_by")
            .order_by("source_record__source__trust_rank", "source_record__source__code",
                      "source_record__source_key"))


def entity_lineage(entity: Entity) -> dict:
    """Where this golden ID came from and went: merged from / into, split from / into.

    Splits made by real-time matching (a record that stopped matching its entity) are in the
    record events rather than on the entity row, so both are read.
    """
    merged_from = list(Entity.objects.filter(merged_into=entity).order_by("golden_id")
                       .values_list("golden_id", flat=True))
    split_into = list(Entity.objects.filter(split_from=entity).order_by("golden_id")
                      .values_list("golden_id", flat=True))
    split_from = {entity.split_from_id} if entity.split_from_id else set()
    for payload in (Event.objects.filter(entity_id=entity.golden_id,
                                         kind__in=("record.created", "record.updated"))
                    .values_list("payload", flat=True)[:200]):
        origin = (payload or {}).get("split_from_golden_id")
        if origin and payload.get("golden_id") == entity.golden_id:
            split_from.add(origin)
    return {"merged_into": entity.merged_into_id, "merged_from": merged_from,
            "split_from": sorted(split_from), "split_into": split_into}


def entity_decisions(record_ids: list[int]) -> QuerySet[Decision]:
    """Steward decisions touching any of these records, newest first, active or undone."""
    return (Decision.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids))
            .select_related("decided_by").order_by("-created_at", "-id"))


def entity_timeline(golden_ids: list[str], record_ids: list[int], *, limit: int = 200) -> list:
    """Events about the entity (and the IDs merged into it) or its records, newest first."""
    return list(Event.objects.filter(Q(entity_id__in=golden_ids)
                                     | Q(source_record_id__in=record_ids))
                .select_related("actor").order_by("-id")[:limit])


def events_undone(event_ids: list[int]) -> set[int]:
    """Which of ``event_ids`` an "action.undone" event has already undone."""
    if not event_ids:
        return set()
    return set(Event.objects.filter(kind="action.undone",
                                    payload__undone_event_id__in=list(event_ids))
               .values_list("payload__undone_event_id", flat=True))


def entity_record_ids(golden_id: str) -> list[int]:
    """Ids of every record that ever belonged to the entity (current and past links)."""
    return list(Link.objects.filter(entity_id=golden_id)
                .values_list("source_record_id", flat=True).distinct())


# --- the dashboard -----------------------------------------------------------------------------

# Scores outside this range are counted in the first or last bin of the histogram.
HISTOGRAM_RANGE = (-10, 30)


def _per_day(queryset, field: str, since) -> dict[date, int]:
    rows = (queryset.filter(**{f"{field}__gte": since})
            .annotate(day=TruncDate(field)).values("day").annotate(n=Count("id")))
    return {row["day"]: row["n"] for row in rows}


def review_flow(*, days: int = 14) -> list[dict]:
    """Per day (oldest first): tasks opened, resolved and cancelled, and the open backlog
    at the end of the day (worked back from today's open count)."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    tasks = ReviewTask.objects.all()
    opened = _per_day(tasks, "created_at", since)
    resolved = _per_day(tasks.filter(state=ReviewTask.State.RESOLVED), "resolved_at", since)
    cancelled = _per_day(tasks.filter(state=ReviewTask.State.CANCELLED), "resolved_at", since)
    backlog = tasks.filter(state=ReviewTask.State.OPEN).count()
    rows = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        rows.append({"day": day, "opened": opened.get(day, 0),
                     "resolved": resolved.get(day, 0), "cancelled": cancelled.get(day, 0),
                     "open_at_end": backlog})
        # The backlog the evening before: undo this day's openings and closings.
        backlog -= opened.get(day, 0) - resolved.get(day, 0) - cancelled.get(day, 0)
        backlog = max(backlog, 0)
    return list(reversed(rows))


def link_outcomes() -> dict:
    """How the active records' current memberships came about: auto-linked, sent to review,
    new entity (the matcher's outcomes) or manual (a steward's). Each record counts once: a
    steward's link also has the outcome "linked", so the matcher's counts take automatic
    links only."""
    counts = {(origin, outcome): n for origin, outcome, n in (
        Link.objects.filter(ended_at=None, source_record__state=SourceRecord.State.ACTIVE)
        .values_list("origin", "outcome").annotate(n=Count("id")).order_by())}

    def auto(outcome: str) -> int:
        return counts.get((Link.Origin.AUTO, outcome), 0)

    return {"linked": auto(Link.Outcome.LINKED), "review": auto(Link.Outcome.REVIEW),
            "new_entity": auto(Link.Outcome.NEW_ENTITY),
            "manual": sum(n for (origin, _o), n in counts.items()
                          if origin == Link.Origin.MANUAL),
            "active_entities": Entity.objects.filter(state=Entity.State.ACTIVE).count()}


def score_histogram() -> list[dict]:
    """Counts of current links' match scores in 1-bit bins, clamped to HISTOGRAM_RANGE."""
    low, high = HISTOGRAM_RANGE
    rows = (Link.objects.filter(ended_at=None, score__isnull=False)
            .annotate(bin=Floor("score")).values("bin").annotate(n=Count("id")))
    bins = dict.fromkeys(range(low, high), 0)
    for row in rows:
        edge = min(max(int(row["bin"]), low), high - 1)
        bins[edge] += row["n"]
    return [{"start": edge, "count": count} for edge, count in bins.items()]


def source_quality() -> list[dict]:
    """Per source: active records, records per entity, completeness and invalid values of each
    key attribute (the share of records that have it, and how many arrived unusable)."""
    aggregates = {"records": Count("id"), "entities": Count("entity", distinct=True),
                  "with_invalid": Count("id", filter=~Q(invalid_attributes={}))}
    for name in CANONICAL_ATTRIBUTES:
        # Standardised attributes hold every key, with JSON null where the value is missing.
        present = Q(standardised__has_key=name) & ~Q(**{f"standardised__{name}": None})
        aggregates[f"has_{name}"] = Count("id", filter=present)
        aggregates[f"bad_{name}"] = Count("id", filter=Q(invalid_attributes__has_key=name))
    rows = (SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE)
            .values("source__code").annotate(**aggregates).order_by("source__code"))
    result = []
    for row in rows:
        records = row["records"] or 1
        result.append({
            "source": row["source__code"],
            "records": row["records"],
            "records_per_entity": round(row["records"] / max(row["entities"], 1), 3),
            "with_invalid": row["with_invalid"],
            "attributes": [
                {"name": name, "completeness": round(100 * row[f"has_{name}"] / records, 1),
                 "invalid": row[f"bad_{name}"]}
                for name in CANONICAL_ATTRIBUTES],
        })
    return result
