"""The entity and task pages through Django's test client: which timeline events offer an undo,
where a merged golden ID points, the other members of each side of a task and the values as
the sources sent them."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from hub.models import Event, SourceRecord
from hub.services.ingest import record_upsert
from hub.services.steward import entity_merge
from tests.browser.test_workbench_pages import client_for
from tests.hub.test_steward_invariants import (
    AURELIO,
    MARGARET,
    MARGARET_MARRIED,
    batch_match,
    group_user,
    ingest_apart,
    ingest_for_review,
)


@pytest.fixture
def stella(db):
    return group_user("stella", "steward")


def entity_page(client, golden_id: str) -> str:
    page = client.get(reverse("admin:workbench_entity", args=[golden_id]))
    assert page.status_code == 200
    return page.content.decode()


def timeline_items(html: str) -> dict[int, str]:
    """Each timeline entry's markup by event id."""
    timeline = html.split('id="timeline"')[1].split("</ol>")[0]
    return {int(event_id): body for event_id, body in
            re.findall(r'<li data-event-id="(\d+)"[^>]*>(.*?)</li>', timeline, re.S)}


def lineage_row(html: str, label: str) -> str:
    lineage = html.split('id="lineage"')[1].split("</table>")[0]
    return re.search(rf"<th>{label}</th><td>(.*?)</td>", lineage, re.S).group(1)


def test_only_a_stewards_merge_offers_undo_not_an_automatic_one(sources, stella):
    # Real-time matching joins two halves of Aurelio when a record bridging them arrives.
    by_email = record_upsert(source_code="crm", source_key="A1", attributes={
        **{k: AURELIO[k] for k in ("given_name", "family_name", "email")}})
    by_birth = record_upsert(source_code="billing", source_key="A2", attributes={
        **{k: AURELIO[k] for k in ("given_name", "family_name", "birth_date", "postcode")}})
    assert by_email.golden_id != by_birth.golden_id
    aurelio = record_upsert(source_code="support", source_key="A3", attributes=AURELIO).golden_id
    realtime = Event.objects.get(kind="entity.merged", payload__into=aurelio)
    # A batch run joins two records of Margaret that were ingested apart.
    ingest_apart([("crm", "M1", MARGARET), ("billing", "M2", MARGARET)])
    batch_match()
    margaret = SourceRecord.objects.get(source_key="M1").entity_id
    batch = Event.objects.get(kind="entity.merged", payload__into=margaret)
    # A steward merges Aurelio's customer into Margaret's (the page shows all three merges).
    entity_merge(survivor_id=margaret, victim_id=aurelio, user=stella)
    steward = Event.objects.get(kind="entity.merged", payload__victim_golden_id=aurelio)

    client = client_for("sam", "steward")
    items = timeline_items(entity_page(client, margaret))
    assert {realtime.pk, batch.pk, steward.pk} <= set(items)
    assert 'class="wb-undo"' in items[steward.pk]
    assert 'class="wb-undo"' not in items[realtime.pk]
    assert 'class="wb-undo"' not in items[batch.pk]
    assert [pk for pk, body in items.items() if 'class="wb-undo"' in body] == [steward.pk]

    # Undone, the steward's merge offers no second undo (Aurelio's own page shows it now).
    client.post(reverse("admin:workbench_undo", args=[steward.pk]))
    items = timeline_items(entity_page(client, aurelio))
    assert "(undone)" in items[steward.pk] and 'class="wb-undo"' not in items[steward.pk]
    assert 'class="wb-undo"' not in items[realtime.pk]


def test_a_merged_customer_names_the_customer_it_was_merged_into(sources, stella):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED),
                            ("support", "S1", AURELIO)])
    first, second, third = (records[key].entity_id for key in ("C1", "B1", "S1"))
    entity_merge(survivor_id=second, victim_id=first, user=stella)
    viewer = client_for("vera", "viewer")
    html = entity_page(viewer, first)
    survivor_link = f'<a href="{reverse("admin:workbench_entity", args=[second])}">{second}</a>'
    assert lineage_row(html, "Merged into") == survivor_link
    assert f"it resolves to\n    {survivor_link}" in html
    assert 'id="merge-form"' not in html
    assert first in lineage_row(entity_page(viewer, second), "Merged from")
    assert lineage_row(entity_page(viewer, second), "Merged into") == "—"

    # Merged on, the first ID follows to the last survivor, which lists both as merged from.
    entity_merge(survivor_id=third, victim_id=second, user=stella)
    html = entity_page(viewer, first)
    assert lineage_row(html, "Merged into") == \
        f'<a href="{reverse("admin:workbench_entity", args=[third])}">{third}</a>'
    merged_from = lineage_row(entity_page(viewer, third), "Merged from")
    assert first in merged_from and second in merged_from


@pytest.fixture
def review_task(sources):
    """Margaret in the CRM (e-mail sent in capitals) and the support desk, auto-linked; her
    married self in billing left in review against her, and linked to a web-shop record."""
    record_upsert(source_code="crm", source_key="C1", attributes={
        **MARGARET, "email": "M.Okonkwo@Example-Mail.CO.UK"})
    record_upsert(source_code="support", source_key="S1", attributes=MARGARET)
    task = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    assert record_upsert(source_code="webshop", source_key="W1",
                         attributes=MARGARET_MARRIED).outcome == "linked"
    return task


def member_list(html: str, golden_id: str) -> str:
    return re.search(rf"Other members of {golden_id}</h3>\s*<ul>(.*?)</ul>", html, re.S).group(1)


def test_task_page_lists_the_other_members_of_each_side(review_task):
    records = {r.source_key: r for r in SourceRecord.objects.all()}
    left, right = review_task.source_record, review_task.candidate_record
    assert (left.source_key, right.source_key) == ("B1", "C1")
    page = client_for("vera", "viewer").get(
        reverse("admin:workbench_task", args=[review_task.pk]))
    assert [m.source_key for m in page.context["left_members"]] == ["W1"]
    assert [m.source_key for m in page.context["right_members"]] == ["S1"]
    html = page.content.decode()
    left_list = member_list(html, left.entity_id)
    right_list = member_list(html, review_task.candidate_entity_id)
    assert f"webshop · record {records['W1'].pk} · margaret fairweather" in left_list
    assert f"record {records['B1'].pk} " not in left_list  # the compared record itself is not
    assert f"support · record {records['S1'].pk} · margaret okonkwo hale" in right_list
    assert f"record {records['C1'].pk} " not in right_list


def comparison_row(html: str, attribute: str) -> list[str]:
    """The two value cells of one attribute's row."""
    row = re.search(rf'<tr [^>]*data-attribute="{attribute}"[^>]*>(.*?)</tr>', html, re.S)
    return re.findall(r'<td class="wb-v">(.*?)</td>', row.group(1), re.S)


def test_task_page_shows_the_value_as_received_where_standardising_changed_it(review_task):
    html = client_for("vera", "viewer").get(
        reverse("admin:workbench_task", args=[review_task.pk])).content.decode()
    left_phone, right_phone = comparison_row(html, "phone")
    assert left_phone == "—"  # billing sent no phone
    assert right_phone == ('+442079460321<span class="wb-received">received: 020 7946 0321'
                           "</span>")
    left_email, right_email = comparison_row(html, "email")
    assert left_email == "maggie.fw@example-post.co.uk"  # sent as stored: nothing to add
    assert right_email == ('m.okonkwo@example-mail.co.uk<span class="wb-received">received: '
                           "M.Okonkwo@Example-Mail.CO.UK</span>")
    left_name, right_name = comparison_row(html, "family_name")
    assert left_name == 'fairweather<span class="wb-received">received: Fairweather</span>'
    assert "received: Okonkwo-Hale" in right_name
    assert comparison_row(html, "birth_date") == ["1984-03-17", "1984-03-17"]


def test_task_page_escapes_a_value_as_received(sources):
    record_upsert(source_code="crm", source_key="C1", attributes=MARGARET)
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=-500.0):
        record_upsert(source_code="billing", source_key="B1",
                      attributes={**MARGARET, "address_line": "<b>14</b> Larkspur Road"})
    task = SourceRecord.objects.get(source_key="B1").review_tasks.get()
    html = client_for("vera", "viewer").get(
        reverse("admin:workbench_task", args=[task.pk])).content.decode()
    left_address, _ = comparison_row(html, "address_line")
    assert "received: &lt;b&gt;14&lt;/b&gt; Larkspur Road" in left_address
    assert "<b>14</b>" not in html
