"""A steward clears the queue with the keyboard, merges and undoes, splits; a viewer only looks.

Each scenario drives the real pages in Chromium and then checks what the database holds.
"""

import json
import re

import pytest
from django.test import override_settings

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.ingest import record_upsert
from hub.services.sources import source_add, source_configure
from tests.browser.conftest import staff_user

pytestmark = pytest.mark.django_db(transaction=True)

def uncertain():
    """Thresholds that put every candidate in review: each pair below opens one review task
    whatever the shipped model makes of names and a postcode."""
    return override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=-500.0)


PEOPLE = [
    {"given_name": "Aurelio", "family_name": "Brandauer", "postcode": "10115"},
    {"given_name": "Wilhelmina", "family_name": "Oyelaran", "postcode": "80331"},
    {"given_name": "Teodor", "family_name": "Vasquez-Lind", "postcode": "20095"},
]
FULL = {"given_name": "Margaret", "family_name": "Okonkwo-Hale", "birth_date": "1984-03-17",
        "email": "m.okonkwo@example-mail.co.uk", "phone": "020 7946 0321",
        "postcode": "N7 8QT", "country": "GB"}
OTHER = {"given_name": "Desmond", "family_name": "Achterberg", "birth_date": "1961-11-02",
         "email": "d.achterberg@example-post.nl", "postcode": "1012 AB", "country": "NL"}


def upsert(source: str, key: str, attributes: dict):
    return record_upsert(source_code=source, source_key=key, attributes=attributes)


def crm_file_source(folder) -> None:
    """The CRM as a file source holding full records, so "load source records" finds them."""
    lines = [json.dumps({"id": f"C{index}", "first": person["given_name"],
                         "last": person["family_name"], "segment": "retail",
                         "customer_since": "2019-04-01"})
             for index, person in enumerate(PEOPLE)]
    (folder / "crm.jsonl").write_text("\n".join(lines) + "\n")
    source_configure(code="crm", connector_kind="file",
                     connector_settings={"root": str(folder), "path": "crm.jsonl",
                                         "key_field": "id"},
                     field_mapping={"first": "given_name", "last": "family_name"},
                     erase_policy="delete")


@pytest.fixture
def world(tmp_path):
    """Three review tasks, one customer with two auto-linked records, one lone customer."""
    for code in ("crm", "billing", "support"):
        source_add(code=code)
    crm_file_source(tmp_path)
    for index, person in enumerate(PEOPLE):
        # The two sides disagree on the town and only one has a birth date, so the comparison
        # shows agreeing, differing and one-sided attributes.
        upsert("crm", f"C{index}", {**person, "locality": "Potsdam",
                                     "birth_date": f"197{index}-06-30"})
        with uncertain():
            upsert("billing", f"B{index}", {**person, "locality": "Berlin"})
    pair = [upsert("crm", "FULL-1", FULL), upsert("support", "FULL-2", {**FULL,
                                                                        "locality": "London"})]
    lone = upsert("support", "OTHER-1", OTHER)
    assert ReviewTask.objects.filter(state="open").count() == len(PEOPLE)
    assert pair[0].golden_id == pair[1].golden_id
    return {"pair_entity": pair[0].golden_id, "lone_entity": lone.golden_id}


def task_id_of(url: str) -> int:
    return int(re.search(r"/tasks/(\d+)/", url).group(1))


def test_steward_resolves_tasks_with_the_keyboard(world, page, login, screenshot):
    staff_user("stella", "steward")
    login(page, "stella")
    assert page.locator("[data-count=open]").inner_text() == "3"
    assert "j" in page.locator("#keyboard-help").inner_text()
    screenshot(page, "queue")

    page.keyboard.press("j")  # second row
    page.keyboard.press("k")  # back to the first
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks/*/")
    first = task_id_of(page.url)
    assert page.locator("#score-waterfall .wb-review-line").count() == 1
    assert page.locator("#score-waterfall .wb-auto-line").count() == 1
    assert page.locator("#comparison tr[data-status=same]").count() >= 3
    page.keyboard.press("r")  # live source records: these sources have no connector
    page.locator("#source-records[data-loaded=yes]").wait_for()
    blocks = page.locator("#source-records table")
    assert blocks.count() == 2  # one record on each side
    statuses = {blocks.nth(i).get_attribute("data-status") for i in range(2)}
    assert statuses == {"ok", "error"}  # the CRM file answers; billing has no connector
    assert "retail" in page.locator("#source-records table[data-status=ok]").inner_text()
    assert "no connector configured" in page.locator("#source-records").inner_text()
    assert page.locator("#comparison tr[data-status=differs]").count() >= 1
    assert page.locator("#comparison tr[data-status=one_missing]").count() >= 1
    screenshot(page, "task")

    page.keyboard.press("c")  # claim
    page.wait_for_selector("#task-assignee:text('stella')")
    assert ReviewTask.objects.get(pk=first).assignee.username == "stella"

    page.keyboard.press("l")  # link: same person
    page.wait_for_url(lambda url: "/tasks/" in url and task_id_of(url) != first)
    second = task_id_of(page.url)
    page.keyboard.press("n")  # not a match
    page.wait_for_url(lambda url: "/tasks/" in url and task_id_of(url) not in (first, second))
    third = task_id_of(page.url)
    page.keyboard.press("s")  # skip: the last task, so back to the queue
    page.wait_for_url("**/admin/workbench/")
    assert page.locator("[data-count=open]").inner_text() == "1"
    assert page.locator("[data-count=resolved_today]").inner_text() == "2"

    linked = ReviewTask.objects.get(pk=first)
    assert (linked.state, linked.verdict, linked.resolved_by.username) == (
        "resolved", "same", "stella")
    record = SourceRecord.objects.get(pk=linked.source_record_id)
    assert record.entity_id == linked.candidate_entity_id
    link = Link.objects.get(source_record=record, ended_at=None)
    assert (link.origin, link.created_by.username) == ("manual", "stella")
    rejected = ReviewTask.objects.get(pk=second)
    assert (rejected.state, rejected.verdict) == ("resolved", "different")
    assert SourceRecord.objects.get(pk=rejected.source_record_id).entity_id != \
        rejected.candidate_entity_id
    assert Decision.objects.filter(verdict="different", is_active=True,
                                   decided_by__username="stella").count() >= 1
    assert ReviewTask.objects.get(pk=third).state == "open"
    assert set(Event.objects.filter(actor__username="stella").values_list("kind", flat=True)) \
        >= {"review.claimed", "review.resolved"}


def test_steward_merges_two_customers_and_undoes_it(world, page, login, screenshot):
    survivor, victim = world["pair_entity"], world["lone_entity"]
    victim_records = set(SourceRecord.objects.filter(entity_id=victim)
                         .values_list("id", flat=True))
    staff_user("stella", "steward")
    login(page, "stella")
    page.fill("#entity-lookup input[name=golden_id]", survivor.lower())
    page.click("#entity-lookup button")
    page.wait_for_url(f"**/admin/workbench/entities/{survivor}/")
    page.fill("#merge-form input[name=other_id]", victim)
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector(".messagelist .success")

    merged = Entity.objects.get(pk=victim)
    assert (merged.state, merged.merged_into_id) == ("merged", survivor)
    assert set(SourceRecord.objects.filter(entity_id=survivor).values_list("id", flat=True)) \
        >= victim_records
    assert page.locator("#xrefs tbody tr").count() == 3
    assert victim in page.locator("#lineage").inner_text()
    screenshot(page, "entity")

    page.locator("#timeline li[data-kind='entity.merged'] button.wb-undo").click()
    page.wait_for_selector(".messagelist .success")
    restored = Entity.objects.get(pk=victim)
    assert (restored.state, restored.merged_into_id) == ("active", None)
    assert set(SourceRecord.objects.filter(entity_id=victim).values_list("id", flat=True)) \
        == victim_records
    assert SourceRecord.objects.filter(entity_id=survivor).count() == 2
    assert Event.objects.filter(kind="action.undone", actor__username="stella").exists()
    assert page.locator("#timeline li[data-kind='entity.merged'] button.wb-undo").count() == 0


def test_steward_splits_a_record_out(world, page, login):
    entity = world["pair_entity"]
    record = SourceRecord.objects.get(source_key="FULL-2")
    staff_user("stella", "steward")
    login(page, "stella", f"/admin/workbench/entities/{entity}/")
    page.locator(f"#xrefs tr[data-record-id='{record.pk}'] button.wb-split").click()
    page.wait_for_selector(".messagelist .success")

    record.refresh_from_db()
    assert record.entity_id != entity
    new_entity = Entity.objects.get(pk=record.entity_id)
    assert (new_entity.state, new_entity.split_from_id) == ("active", entity)
    assert list(SourceRecord.objects.filter(entity_id=entity).values_list("source_key",
                                                                          flat=True)) == ["FULL-1"]
    assert Link.objects.get(source_record=record, ended_at=None).origin == "manual"
    assert entity in page.locator("#lineage").inner_text()
    # Matching never puts it back: re-sending the record leaves it where the steward put it.
    upsert("support", "FULL-2", {**FULL, "locality": "London", "region": "Greater London"})
    record.refresh_from_db()
    assert record.entity_id == new_entity.golden_id


def test_viewer_sees_but_cannot_resolve(world, page, login, screenshot):
    staff_user("vera", "viewer")
    task = ReviewTask.objects.filter(state="open").order_by("id").first()
    login(page, "vera", f"/admin/workbench/tasks/{task.pk}/")
    assert page.locator("#resolve-same").count() == 0
    page.keyboard.press("l")  # nothing to press
    assert page.locator("#comparison").is_visible()
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{page.url.split('/admin/')[0]}/admin/workbench/tasks/{task.pk}/resolve/",
        form={"verdict": "same"}, headers={"X-CSRFToken": token, "Referer": page.url})
    assert response.status == 403
    task.refresh_from_db()
    assert (task.state, task.resolved_by) == ("open", None)

    page.goto(page.url.split("/admin/")[0] + "/admin/workbench/dashboard/")
    assert page.locator("#score-histogram .wb-review-line").count() == 1
    assert page.locator("#score-histogram .wb-auto-line").count() == 1
    assert page.locator("#completeness tr[data-attribute=email]").is_visible()
    screenshot(page, "dashboard")


def test_user_outside_both_groups_is_refused(world, page, login, live_server):
    from django.contrib.auth.models import User

    User.objects.create_user("outsider", password="browser-test-password", is_staff=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "outsider")
    page.fill("#id_password", "browser-test-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    response = page.goto(f"{live_server.url}/admin/workbench/")
    assert response.status == 403


