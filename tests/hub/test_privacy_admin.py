"""Admin pages of privacy requests: find the subject, open a request, act on it with buttons."""

from django.contrib.auth.models import Group, User
from django.test import Client

from hub.models import PrivacyRequest


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_officer_finds_the_subject_opens_a_request_and_moves_it_along(
        subject, officer, person):
    admin = logged_in(officer)
    search = admin.get("/admin/hub/privacyrequest/search/",
                       {"email": person["email"], "family_name": person["family_name"]})
    assert search.status_code == 200 and subject in search.content.decode()

    opened = admin.post("/admin/hub/privacyrequest/search/",
                        {"golden_id": subject, "kind": "erasure", "reference": "T-1"})
    request = PrivacyRequest.objects.get()
    assert opened.status_code == 302 and opened["Location"].endswith(f"/{request.pk}/change/")
    assert (request.kind, request.subject_id, request.received_by) == ("erasure", subject,
                                                                       officer)
    page = admin.get(f"/admin/hub/privacyrequest/{request.pk}/change/")
    assert page.status_code == 200 and "Retry failed steps" in page.content.decode()

    admin.post(f"/admin/hub/privacyrequest/{request.pk}/act/approve/")
    request.refresh_from_db()
    assert request.state == "received"  # refused: not verified yet (shown as a message)
    admin.post(f"/admin/hub/privacyrequest/{request.pk}/act/verify/",
               {"method": "email_confirmation"})
    admin.post(f"/admin/hub/privacyrequest/{request.pk}/act/approve/")
    request.refresh_from_db()
    assert (request.state, request.approved_by) == ("approved", officer)
    assert admin.get("/admin/hub/privacyrequest/").status_code == 200


def test_the_privacy_officer_group_gives_the_privacy_pages(db):
    member = User.objects.create_user("member", password="x", is_staff=True)
    member.groups.add(Group.objects.get(name="privacy_officer"))
    admin = logged_in(member)
    for page in ("/admin/hub/privacyrequest/", "/admin/hub/privacyrequest/search/",
                 "/admin/hub/suppressionentry/"):
        assert admin.get(page).status_code == 200, page


def test_a_viewer_without_privacy_permissions_cannot_act(subject, db):
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    request = PrivacyRequest.objects.create(kind="export", subject_id=subject,
                                            received_at="2026-01-01T00:00Z",
                                            due_at="2026-02-01T00:00Z")
    answer = logged_in(viewer).post(f"/admin/hub/privacyrequest/{request.pk}/act/cancel/")
    assert answer.status_code == 403
    request.refresh_from_db()
    assert request.state == "received"
