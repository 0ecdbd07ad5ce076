from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from linli.accounts.tests.factories import PASSWORD, RoleAssignmentFactory, UserFactory
from linli.regions.tests.factories import region_chain

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def worker(db):
    user = UserFactory(username="worker")
    RoleAssignmentFactory(user=user, region=region_chain("990102001001"))
    return user


def test_a_token_from_username_and_password_opens_the_api(worker, api_client):
    response = api_client.post(TOKEN_URL, {"username": "worker", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = api_client.get("/api/v1/regions/")
    assert listed.status_code == 200
    assert [r["code"] for r in listed.json()["results"]] == ["990102001001"]


def test_logout_revokes_the_token(worker, api_client):
    token = api_client.post(TOKEN_URL, {"username": "worker", "password": PASSWORD}).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.post(reverse("api:auth-logout")).status_code == 204
    assert api_client.get("/api/v1/regions/").status_code == 401


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "worker", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_get_one_clear_answer(worker, api_client, credentials):
    response = api_client.post(TOKEN_URL, credentials)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "The username or password is not correct.",
        "fields": {},
    }


def test_an_inactive_account_cannot_log_in(worker, api_client):
    worker.is_active = False
    worker.save()
    response = api_client.post(TOKEN_URL, {"username": "worker", "password": PASSWORD})
    assert response.json()["code"] == "invalid_credentials"


def test_missing_fields_are_named(api_client):
    response = api_client.post(TOKEN_URL, {"username": "worker"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"] == {"password": ["This field is required."]}


def test_the_answer_is_in_the_callers_language(worker, api_client):
    response = api_client.post(
        TOKEN_URL, {"username": "worker", "password": "x"}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.json()["detail"] == "用户名或密码不正确。"


def test_an_expired_token_is_refused(worker, api_client):
    instance, token = AuthToken.objects.create(worker)
    instance.expiry = timezone.now() - timedelta(seconds=1)
    instance.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.get("/api/v1/regions/")
    assert response.status_code == 401
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def test_a_made_up_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert api_client.get("/api/v1/regions/").status_code == 401


def test_without_a_token_the_api_asks_for_one(api_client):
    response = api_client.get("/api/v1/regions/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_repeated_failures_lock_the_login_with_a_clear_answer(worker, api_client, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(TOKEN_URL, {"username": "worker", "password": "guess"})
    response = api_client.post(TOKEN_URL, {"username": "worker", "password": PASSWORD})
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert "Try again in 15 minutes" in body["detail"]
