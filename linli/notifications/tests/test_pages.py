"""The inbox page and API: the owner's notifications only, read and marked read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.accounts.tests.factories import UserFactory
from linli.notifications.choices import Kind
from linli.notifications.models import Notification
from linli.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory.create(username="owner")


@pytest.fixture
def stranger():
    return UserFactory.create(username="stranger")


def send(user, title, link=""):
    return notify(user=user, kind=Kind.MESSAGE, title=title, body=f"{title} body", link=link)


def test_the_inbox_lists_the_owners_notifications_only(client, owner, stranger):
    send(owner, "For the owner")
    send(stranger, "For the stranger")
    client.force_login(owner)
    page = client.get("/inbox/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "For the owner" in text
    assert "For the stranger" not in text
    assert "1 unread notification." in text
    assert page["Cache-Control"].startswith("max-age=0")


def test_marking_read_on_the_page_and_anothers_is_not_found(client, owner, stranger):
    mine = send(owner, "Mine")
    theirs = send(stranger, "Theirs")
    client.force_login(owner)
    answer = client.post(f"/inbox/{mine.pk}/read/", {"next": "/inbox/?page=1"})
    assert (answer.status_code, answer["Location"]) == (302, "/inbox/?page=1")
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # Somewhere else than this site is not a place to go back to.
    answer = client.post(f"/inbox/{mine.pk}/read/", {"next": "https://evil.example/"})
    assert answer["Location"] == "/inbox/"
    assert "Nothing unread." in client.get("/inbox/?unread=1").content.decode()


def test_opening_follows_the_link_and_reads_it(client, owner):
    notification = send(owner, "Go", link="/inbox/?from=link")
    outside = send(owner, "Away", link="https://evil.example/")
    client.force_login(owner)
    answer = client.get(f"/inbox/{notification.pk}/open/")
    assert (answer.status_code, answer["Location"]) == (302, "/inbox/?from=link")
    assert client.get(f"/inbox/{outside.pk}/open/")["Location"] == reverse("notifications:inbox")
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_mark_all_read(client, owner, stranger):
    for n in range(3):
        send(owner, f"N{n}")
    send(stranger, "Theirs")
    client.force_login(owner)
    answer = client.post("/inbox/read-all/", follow=True)
    assert "3 notifications marked read." in answer.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_the_inbox_needs_a_login(client):
    answer = client.get("/inbox/")
    assert answer.status_code == 302
    assert "login" in answer["Location"]


def test_the_api_lists_the_callers_own_newest_first(api_client, owner, stranger):
    first = send(owner, "First")
    second = send(owner, "Second")
    send(stranger, "Theirs")
    api_client.force_authenticate(owner)
    with CaptureQueriesContext(connection) as queries:
        answer = api_client.get("/api/v1/inbox")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]
    assert body["results"][0] == {
        "id": second.pk,
        "kind": "message",
        "title": "Second",
        "body": "Second body",
        "link": "",
        "request": None,
        "created_at": body["results"][0]["created_at"],
        "read_at": None,
    }
    # A count and a page, whatever the page's length.
    assert len(queries) == 2


def test_the_api_marks_read_and_filters_unread(api_client, owner, stranger):
    mine = send(owner, "Mine")
    send(owner, "Other")
    theirs = send(stranger, "Theirs")
    api_client.force_authenticate(owner)
    answer = api_client.post(f"/api/v1/inbox/{mine.pk}/read")
    assert answer.status_code == 200
    assert answer.json()["read_at"] is not None
    assert api_client.get("/api/v1/inbox?unread=true").json()["count"] == 1
    refused = api_client.post(f"/api/v1/inbox/{theirs.pk}/read")
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert api_client.get("/api/v1/inbox?unread=maybe").status_code == 400
    assert api_client.post("/api/v1/inbox/read-all").json() == {"marked": 1}


def test_the_api_needs_a_caller(api_client, owner):
    send(owner, "Mine")
    assert api_client.get("/api/v1/inbox").status_code in (401, 403)


def test_the_header_badge_counts_unread_only_when_shown(rf, owner, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    from linli.notifications.context_processors import inbox

    send(owner, "One")
    send(owner, "Two")
    request = rf.get("/")
    request.user = owner
    with django_assert_num_queries(0):
        context = inbox(request)
    with django_assert_num_queries(1):
        assert str(context["inbox_unread"]) == "2"
    request.user = AnonymousUser()
    assert not inbox(request)["inbox_unread"]
