"""The dashboard's figures through Django's test client: review tasks opened, resolved and
cancelled per day with the backlog, the match-score histogram's bins, and how the records'
memberships came about (auto-linked, sent to review, new entity, manual)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.models import Link, ReviewTask, SourceRecord
from hub.selectors.workbench import link_outcomes, review_flow, score_histogram
from hub.services.ingest import record_upsert
from hub.services.steward import review_task_resolve
from tests.browser.test_workbench_pages import client_for
from tests.hub.test_steward_invariants import (
    MARGARET,
    MARGARET_MARRIED,
    group_user,
    ingest_apart,
    ingest_for_review,
)


def dashboard(client):
    page = client.get(reverse("admin:workbench_dashboard"))
    assert page.status_code == 200
    return page


def days_ago(days: int):
    """Noon ``days`` days ago, in the hub's time zone (what the per-day counts group by)."""
    day = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def records(sources):
    """Seven customers, each alone in its entity (the tasks below are made by hand)."""
    return list(ingest_apart([("crm", f"C{i}", {"given_name": f"Name{i}",
                                                "family_name": "Quist"}) for i in range(7)])
                .values())


def task(record: SourceRecord, candidate: SourceRecord, *, opened, state="open", closed=None,
         score=5.0) -> ReviewTask:
    made = ReviewTask.objects.create(source_record=record, candidate_entity_id=candidate.entity_id,
                                     candidate_record=candidate, reason="uncertain", score=score)
    ReviewTask.objects.filter(pk=made.pk).update(created_at=opened, state=state,
                                                 resolved_at=closed)
    return made


def test_dashboard_counts_tasks_opened_resolved_and_cancelled_per_day_with_the_backlog(records):
    candidate, *asking = records
    # Three days ago two tasks opened; two days ago one more, and one of the first two was
    # resolved; today two opened, one resolved and one cancelled. One from three weeks ago is
    # still open: it counts in every day's backlog but is older than the chart.
    task(asking[0], candidate, opened=days_ago(3), state="resolved", closed=days_ago(2))
    task(asking[1], candidate, opened=days_ago(3), state="resolved", closed=timezone.now())
    task(asking[2], candidate, opened=days_ago(2), state="cancelled", closed=timezone.now())
    task(asking[3], candidate, opened=timezone.now())
    task(asking[4], candidate, opened=timezone.now())
    task(asking[5], candidate, opened=days_ago(21))

    flow = review_flow(days=14)
    assert [row["day"] for row in flow] == [timezone.localdate() - timedelta(days=d)
                                            for d in range(13, -1, -1)]
    by_age = {(timezone.localdate() - row["day"]).days: row for row in flow}

    def figures(days):
        row = by_age[days]
        return row["opened"], row["resolved"], row["cancelled"], row["open_at_end"]

    assert figures(0) == (2, 1, 1, 3)
    assert figures(1) == (0, 0, 0, 3)
    assert figures(2) == (1, 1, 0, 3)
    assert figures(3) == (2, 0, 0, 3)
    assert figures(4) == (0, 0, 0, 1)  # only the three-week-old task was open then
    assert figures(13) == (0, 0, 0, 1)

    page = dashboard(client_for("vera", "viewer"))
    assert page.context["flow"] == flow
    bars = {day["label"]: day for day in page.context["flow_chart"]["days"]}
    today = bars[timezone.localdate().strftime("%d %b")]
    assert (today["opened"], today["resolved"]) == (2, 1)
    assert page.context["flow_chart"]["tallest"] == 2
    html = page.content.decode()
    assert f"<td>{timezone.localdate():%Y-%m-%d}</td><td>2</td><td>1</td><td>1</td><td>3</td>" \
        in html
    assert f"{timezone.localdate():%d %b}: 2 opened" in html


def test_score_histogram_counts_current_links_in_one_bit_bins_clamped_to_its_range(records):
    links = list(Link.objects.filter(ended_at=None).order_by("id"))
    scores = [-25.0, -0.5, 3.2, 3.9, 29.5, 80.0]
    for link, score in zip(links, scores, strict=False):
        Link.objects.filter(pk=link.pk).update(score=score)
    # The seventh link keeps no score, and a link that has ended is history, not counted.
    ended = Link.objects.create(source_record=links[0].source_record, entity_id=links[1].entity_id,
                                origin="auto", outcome="linked", score=3.5,
                                ended_at=timezone.now())
    assert ended.score == 3.5

    bins = {b["start"]: b["count"] for b in score_histogram()}
    assert sorted(bins) == list(range(-10, 30))  # 1-bit bins from -10 to 30
    assert bins[-10] == 1  # -25 falls in the first bin
    assert bins[-1] == 1
    assert bins[3] == 2
    assert bins[29] == 2  # 29.5, and 80 clamped into the last bin
    assert sum(bins.values()) == 6

    page = dashboard(client_for("vera", "viewer"))
    assert page.context["scored_links"] == 6
    bars = {bar["start"]: bar for bar in page.context["histogram"]["bars"]}
    assert bars[3]["count"] == 2 and bars[0]["count"] == 0 and bars[0]["height"] == 0
    assert bars[3]["height"] == bars[29]["height"] > bars[-1]["height"] > 0
    html = page.content.decode()
    assert "3 to 4 bits: 2</title>" in html and "-1 to 0 bits: 1</title>" in html
    assert "6 scored links" in html


def outcome_counts(html: str) -> dict[str, int]:
    block = html.split('id="outcome-counts"')[1].split("</div>\n<p")[0]
    return {label: int(n) for label, n in
            re.findall(r'class="wb-count">([^<]+)<b>(\d+)</b>', block)}


def test_dashboard_counts_how_each_record_joined_its_customer(sources):
    # A new customer, a record auto-linked to it, one left in review, and a second record of
    # the reviewed customer auto-linked to that one.
    assert record_upsert(source_code="crm", source_key="C1",
                         attributes=MARGARET).outcome == "new_entity"
    assert record_upsert(source_code="support", source_key="S1",
                         attributes=MARGARET).outcome == "linked"
    review = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    assert record_upsert(source_code="webshop", source_key="W1",
                         attributes=MARGARET_MARRIED).outcome == "linked"
    expected = {"linked": 2, "review": 1, "new_entity": 1, "manual": 0, "active_entities": 2}
    assert link_outcomes() == expected
    viewer = client_for("vera", "viewer")
    assert outcome_counts(dashboard(viewer).content.decode()) == {
        "Auto-linked": 2, "Sent to review": 1, "New entity": 1, "Manual links": 0,
        "Active customers": 2}

    # A steward links the reviewed record: it now counts as manual, not as auto-linked.
    review_task_resolve(task_id=review.pk, verdict="same", user=group_user("stella", "steward"))
    assert link_outcomes() == {**expected, "review": 0, "manual": 1}
    assert outcome_counts(dashboard(viewer).content.decode())["Manual links"] == 1
    assert dashboard(viewer).context["outcomes"]["linked"] == 2
