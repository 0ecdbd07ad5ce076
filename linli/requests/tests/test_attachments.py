"""Files with a request: photos and PDFs only, capped, for those involved, served only
to those who may see the request."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from linli.accounts.tests.factories import UserFactory
from linli.requests.models import Attachment

from .test_services import ask

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def upload(client, public_id, name, content):
    return client.post(
        f"/api/v1/requests/{public_id}/attachments",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_the_person_served_adds_a_photo_and_those_who_see_the_request_get_it_back(elder, worker):
    request = ask(elder)
    added = upload(client_for(elder.user), request.public_id, "扶手.png", PNG)
    assert added.status_code == 201, added.content
    assert (added.json()["name"], added.json()["content_type"]) == ("扶手.png", "image/png")
    listed = client_for(worker).get(f"/api/v1/requests/{request.public_id}/attachments")
    assert [row["name"] for row in listed.json()] == ["扶手.png"]
    file = client_for(worker).get(
        f"/api/v1/requests/{request.public_id}/attachments/{added.json()['id']}"
    )
    assert file.status_code == 200
    assert b"".join(cast(Any, file).streaming_content) == PNG
    assert file["X-Content-Type-Options"] == "nosniff"
    stranger = client_for(UserFactory.create())
    gone = stranger.get(f"/api/v1/requests/{request.public_id}/attachments/{added.json()['id']}")
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("note.txt", b"just text", "photo"),
        ("fake.png", b"<html>not a picture</html>", "photo"),
        ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "MB"),
    ],
)
def test_files_that_are_not_photos_or_pdfs_or_too_big_are_refused(elder, name, content, reason):
    request = ask(elder)
    refused = upload(client_for(elder.user), request.public_id, name, content)
    assert refused.status_code == 400
    assert reason in refused.json()["fields"]["file"][0]
    assert not Attachment.objects.exists()


def test_at_most_five_files_a_request_and_none_from_outsiders(elder):
    request = ask(elder)
    client = client_for(elder.user)
    for n in range(5):
        assert upload(client, request.public_id, f"{n}.pdf", PDF).status_code == 201
    sixth = upload(client, request.public_id, "6.pdf", PDF)
    assert sixth.status_code == 400
    assert "At most 5" in sixth.json()["fields"]["file"][0]
    outsider = upload(client_for(UserFactory.create()), request.public_id, "x.pdf", PDF)
    assert outsider.status_code == 404
    assert Attachment.objects.count() == 5


def test_officials_see_the_request_but_not_its_photos_and_the_page_lists_them(
    elder, worker, community, client
):
    from linli.accounts.choices import Role
    from linli.accounts.tests.factories import RoleAssignmentFactory

    request = ask(elder)
    added = upload(client_for(elder.user), request.public_id, "药方.pdf", PDF).json()
    official = UserFactory.create()
    RoleAssignmentFactory(user=official, role=Role.STREET_OFFICIAL, region=community.parent)
    as_official = client_for(official)
    assert as_official.get(f"/api/v1/requests/{request.public_id}/").status_code == 200
    assert as_official.get(f"/api/v1/requests/{request.public_id}/attachments").status_code == 403
    file_url = f"/api/v1/requests/{request.public_id}/attachments/{added['id']}"
    assert as_official.get(file_url).status_code == 403
    client.force_login(elder.user)
    page = client.get(f"/requests/{request.public_id}/")
    assert page.status_code == 200
    assert file_url in page.content.decode()
