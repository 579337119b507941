"""The workbench pages through Django's test client (no browser): filters and order of the
queue, who may see and who may act, conflicts shown to the second steward, dashboard figures."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from hub.models import Entity, Event, ReviewTask, SourceRecord
from hub.selectors import workbench as selectors
from hub.selectors.workbench import source_quality
from hub.services.ingest import record_upsert


def uncertain():
    """Thresholds that put every candidate in review: each pair below opens one review task
    whatever the shipped model makes of names and a postcode."""
    return override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=-500.0)


PEOPLE = [
    {"given_name": "Aurelio", "family_name": "Brandauer", "postcode": "10115"},
    {"given_name": "Wilhelmina", "family_name": "Oyelaran", "postcode": "80331"},
]


def client_for(username: str, group: str | None, *, superuser: bool = False) -> Client:
    user = User.objects.create_user(username, is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tasks(sources):
    """Two open review tasks (crm record vs billing record of the same name and postcode)."""
    for index, person in enumerate(PEOPLE):
        record_upsert(source_code="crm", source_key=f"C{index}", attributes=person)
        with uncertain():
            record_upsert(source_code="billing", source_key=f"B{index}", attributes=person)
    found = list(ReviewTask.objects.filter(state="open").order_by("id"))
    assert len(found) == 2
    return found


def test_queue_orders_by_distance_to_a_threshold_then_age(tasks):
    thresholds = selectors.Thresholds(review=3.0, auto_link=12.5)
    near_auto, near_review = tasks
    ReviewTask.objects.filter(pk=near_auto.pk).update(score=12.0)
    ReviewTask.objects.filter(pk=near_review.pk).update(score=4.0)
    ordered = selectors.tasks_order(selectors.tasks_open(), thresholds=thresholds)
    assert [t.pk for t in ordered] == [near_auto.pk, near_review.pk]
    ReviewTask.objects.filter(pk=near_auto.pk).update(score=4.0)
    ReviewTask.objects.filter(pk=near_review.pk).update(
        created_at=timezone.now() - timedelta(days=3))
    ordered = selectors.tasks_order(selectors.tasks_open(), thresholds=thresholds)
    assert [t.pk for t in ordered] == [near_review.pk, near_auto.pk]
    by_score = selectors.tasks_order(selectors.tasks_open(), thresholds=thresholds,
                                     order="oldest")
    assert [t.pk for t in by_score][0] == near_review.pk


def test_queue_filters_by_band_age_source_and_assignee(tasks, db):
    steward = client_for("stella", "steward")
    first, second = tasks
    thresholds = selectors.thresholds_current()
    upper_half = (thresholds.middle + thresholds.auto_link) / 2
    lower_half = (thresholds.review + thresholds.middle) / 2
    ReviewTask.objects.filter(pk=first.pk).update(score=upper_half)
    ReviewTask.objects.filter(pk=second.pk).update(score=lower_half)
    ReviewTask.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(days=9))
    url = reverse("admin:workbench_queue")

    def listed(**params):
        page = steward.get(url, params)
        assert page.status_code == 200
        return [t.pk for t in page.context["tasks"]]

    assert sorted(listed()) == [first.pk, second.pk]
    assert listed(band="high") == [first.pk]
    assert listed(band="low") == [second.pk]
    assert listed(age="older") == [second.pk]
    assert listed(age="day") == [first.pk]
    assert sorted(listed(source="billing")) == [first.pk, second.pk]
    assert listed(source="support") == []
    assert steward.post(reverse("admin:workbench_task_claim", args=[first.pk])).status_code == 302
    assert listed(assignee="me") == [first.pk]
    assert listed(assignee="unassigned") == [second.pk]
    counts = steward.get(url).context["counts"]
    assert (counts["open"], counts["claimed"], counts["mine"]) == (2, 1, 1)


@pytest.fixture
def three_tasks(tasks):
    """A third open task beside the two of ``tasks``."""
    person = {"given_name": "Teodor", "family_name": "Vasquez-Lind", "postcode": "20095"}
    record_upsert(source_code="crm", source_key="C2", attributes=person)
    with uncertain():
        record_upsert(source_code="support", source_key="S2", attributes=person)
    third = ReviewTask.objects.get(state="open", source_record__source_key="S2")
    return [*tasks, third]


def queue_ids(client, **params) -> list[int]:
    page = client.get(reverse("admin:workbench_queue"), params)
    assert page.status_code == 200
    return [t.pk for t in page.context["tasks"]]


def test_queue_assignee_filter_shows_other_stewards_tasks_or_one_stewards(three_tasks):
    stella, bob = client_for("stella", "steward"), client_for("bob", "steward")
    mine, bobs, unclaimed = three_tasks
    stella.post(reverse("admin:workbench_task_claim", args=[mine.pk]))
    bob.post(reverse("admin:workbench_task_claim", args=[bobs.pk]))
    # "others": claimed by anybody but me; neither mine nor the unclaimed task.
    assert queue_ids(stella, assignee="others") == [bobs.pk]
    assert queue_ids(bob, assignee="others") == [mine.pk]
    # A username: that steward's tasks, whoever is looking.
    assert queue_ids(stella, assignee="bob") == [bobs.pk]
    assert queue_ids(bob, assignee="stella") == [mine.pk]
    assert queue_ids(stella, assignee="nobody-of-that-name") == []
    assert queue_ids(stella, assignee="unassigned") == [unclaimed.pk]
    page = stella.get(reverse("admin:workbench_queue"), {"assignee": "bob"})
    assert page.context["assignees"] == ["bob", "stella"]
    assert b'<option value="bob" selected' in page.content


def test_queue_orders_by_age_or_score_as_the_steward_chooses(three_tasks):
    steward = client_for("stella", "steward")
    a, b, c = three_tasks
    now = timezone.now()
    for task, score, age in ((a, 7.0, 3), (b, 5.0, 1), (c, 9.0, 2)):
        ReviewTask.objects.filter(pk=task.pk).update(score=score,
                                                     created_at=now - timedelta(days=age))
    assert queue_ids(steward, order="oldest") == [a.pk, c.pk, b.pk]
    assert queue_ids(steward, order="newest") == [b.pk, c.pk, a.pk]
    assert queue_ids(steward, order="score_desc") == [c.pk, a.pk, b.pk]
    assert queue_ids(steward, order="score_asc") == [b.pk, a.pk, c.pk]
    # Equal scores: the older task first, in either direction.
    ReviewTask.objects.filter(pk=b.pk).update(score=7.0)
    assert queue_ids(steward, order="score_desc") == [c.pk, a.pk, b.pk]
    assert queue_ids(steward, order="score_asc") == [a.pk, b.pk, c.pk]
    # A task page's next and previous follow the order the steward chose.
    page = steward.get(reverse("admin:workbench_task", args=[a.pk]), {"order": "score_asc"})
    assert page.context["previous_url"] == ""
    assert page.context["next_url"] == (
        reverse("admin:workbench_task", args=[b.pk]) + "?order=score_asc")


def test_viewer_sees_every_page_but_every_action_is_refused(tasks):
    viewer = client_for("vera", "viewer")
    task = tasks[0]
    gid = task.candidate_entity_id
    for name, args in [("workbench_queue", []), ("workbench_task", [task.pk]),
                       ("workbench_entity", [gid]), ("workbench_dashboard", [])]:
        page = viewer.get(reverse(f"admin:{name}", args=args))
        assert page.status_code == 200
        assert b"<form method=\"post\"" not in page.content.split(b'id="content"')[1]
    record = SourceRecord.objects.get(pk=task.source_record_id)
    refused = [
        ("workbench_task_claim", [task.pk], {}),
        ("workbench_task_resolve", [task.pk], {"verdict": "same"}),
        ("workbench_entity_merge", [gid], {"other_id": record.entity_id}),
        ("workbench_record_split", [record.pk], {}),
        ("workbench_undo", [1], {}),
    ]
    for name, args, data in refused:
        assert viewer.post(reverse(f"admin:{name}", args=args), data).status_code == 403, name
    task.refresh_from_db()
    assert (task.state, task.assignee) == ("open", None)
    assert Entity.objects.get(pk=record.entity_id).state == "active"
    assert not Event.objects.filter(kind__startswith="review.").exists()


def test_staff_outside_the_groups_is_refused_and_anonymous_is_sent_to_login(tasks):
    outsider = client_for("olaf", None)
    assert outsider.get(reverse("admin:workbench_queue")).status_code == 403
    anonymous = Client().get(reverse("admin:workbench_queue"))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    superuser = client_for("root", None, superuser=True)
    assert superuser.get(reverse("admin:workbench_queue")).status_code == 200
    home = superuser.get(reverse("admin:index")).content.decode()
    assert reverse("admin:workbench_queue") in home and 'id="workbench-links"' in home


def test_second_steward_is_told_who_resolved_the_task_first(tasks):
    alice, bob = client_for("alice", "steward"), client_for("bob", "steward")
    task = tasks[0]
    url = reverse("admin:workbench_task_resolve", args=[task.pk])
    first = alice.post(url, {"verdict": "same"})
    assert first.status_code == 302
    assert reverse("admin:workbench_task", args=[tasks[1].pk]) in first["Location"]
    second = bob.post(url, {"verdict": "different"}, follow=True)
    text = second.content.decode()
    assert "alice" in text and "already" in text
    task.refresh_from_db()
    assert (task.verdict, task.resolved_by.username) == ("same", "alice")


def test_resolved_task_page_shows_the_verdict_and_no_buttons(tasks):
    steward = client_for("stella", "steward")
    task = tasks[0]
    steward.post(reverse("admin:workbench_task_resolve", args=[task.pk]),
                 {"verdict": "different"})
    page = steward.get(reverse("admin:workbench_task", args=[task.pk]))
    assert b"verdict <strong>different</strong>" in page.content
    assert b'id="resolve-same"' not in page.content


def test_source_records_view_reports_each_source_status(tasks):
    steward = client_for("stella", "steward")
    gid = tasks[0].candidate_entity_id
    answer = steward.get(reverse("admin:workbench_source_records", args=[gid])).json()
    assert answer["golden_id"] == gid
    assert [(b["source"], b["status"]) for b in answer["blocks"]] == [("crm", "error")]
    assert Event.objects.filter(kind="entity.records_accessed",
                                actor__username="stella").exists()
    missing = steward.get(reverse("admin:workbench_source_records", args=["GNOSUCHENTITY0000"]))
    assert missing.status_code == 404


def test_dashboard_counts_completeness_and_invalid_values(sources):
    record_upsert(source_code="crm", source_key="A", attributes={
        "given_name": "Ines", "family_name": "Kovacs", "email": "ines@example-mail.hu",
        "phone": "not a phone"})
    record_upsert(source_code="crm", source_key="B", attributes={
        "given_name": "Jonas", "family_name": "Petrauskas"})
    crm = next(row for row in source_quality() if row["source"] == "crm")
    by_name = {a["name"]: a for a in crm["attributes"]}
    assert crm["records"] == 2
    assert by_name["given_name"]["completeness"] == 100.0
    assert by_name["email"]["completeness"] == 50.0
    assert by_name["birth_date"]["completeness"] == 0.0
    assert by_name["phone"]["invalid"] == 1
    assert crm["with_invalid"] == 1
    page = client_for("root", None, superuser=True).get(reverse("admin:workbench_dashboard"))
    assert page.status_code == 200
    assert page.context["outcomes"]["new_entity"] == 2


def test_task_of_a_deleted_record_still_renders(tasks):
    from hub.services.ingest import record_delete

    steward = client_for("stella", "steward")
    task = tasks[0]
    record = SourceRecord.objects.get(pk=task.source_record_id)
    record_delete(source_code=record.source.code, source_key=record.source_key)
    task.refresh_from_db()
    assert task.state == "cancelled"
    page = steward.get(reverse("admin:workbench_task", args=[task.pk]))
    assert page.status_code == 200
    assert page.context["source_record_urls"] == [
        reverse("admin:workbench_source_records", args=[task.candidate_entity_id])]
    assert b'id="resolve-same"' not in page.content


def test_entity_lookup_opens_the_customer_or_says_it_is_unknown(tasks):
    viewer = client_for("vera", "viewer")
    gid = tasks[0].candidate_entity_id
    found = viewer.get(reverse("admin:workbench_entity_lookup"), {"golden_id": gid.lower()})
    assert found["Location"] == reverse("admin:workbench_entity", args=[gid])
    missing = viewer.get(reverse("admin:workbench_entity_lookup"), {"golden_id": "nope"},
                         follow=True)
    assert b"No customer with that golden ID" in missing.content
