"""Admin pages of privacy requests: find the subject, open a request, act on it with buttons."""

import re

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
    search = admin.post("/admin/hub/privacyrequest/search/",
                        {"action": "search", "email": person["email"],
                         "family_name": person["family_name"]})
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


SEARCH = "/admin/hub/privacyrequest/search/"


def test_the_subject_search_posts_what_the_person_said_so_it_never_lands_in_a_url(
        subject, officer, person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officer)
    page = browser.get(SEARCH).content.decode()
    [form] = re.findall(r'<form method="(\w+)"[^>]*>\s*<input type="hidden" '
                        r'name="csrfmiddlewaretoken" value="([^"]+)">\s*'
                        r'<input type="hidden" name="action" value="search">', page)
    method, token = form
    said = {"email": person["email"], "family_name": person["family_name"],
            "phone": person["phone"]}

    refused = browser.post(SEARCH, {"action": "search", **said})
    found = browser.post(SEARCH, {"action": "search", "csrfmiddlewaretoken": token, **said})

    assert method == "post"
    assert refused.status_code == 403  # no CSRF token, no search
    assert found.status_code == 200 and subject in found.content.decode()
    assert found.request["PATH_INFO"] == SEARCH and found.request["QUERY_STRING"] == ""
    assert not re.search(r'<form method="get"', found.content.decode())
    # Every form on the page posts back to the search page itself, without a query string.
    actions = re.findall(r'<form method="post" action="([^"]*)"', found.content.decode())
    assert actions and set(actions) == {SEARCH}


def test_the_subject_search_ignores_values_sent_in_the_query_string(subject, officer, person):
    answer = logged_in(officer).get(SEARCH, {"email": person["email"]})

    assert answer.status_code == 200
    assert subject not in answer.content.decode()  # no search ran on a GET
    assert person["email"] not in answer.content.decode()
