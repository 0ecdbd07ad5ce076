import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils.html import escape

from linli.accounts.choices import Role
from linli.accounts.demo import DEMO_PASSWORD, demo_username
from linli.accounts.roles import role_guide

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_wrong_password_is_said_on_the_form(demo, client):
    response = client.post(
        "/accounts/login/", {"username": "demo_resident", "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_then_logout(demo, client):
    response = client.post(
        "/accounts/login/", {"username": "demo_resident", "password": DEMO_PASSWORD}
    )
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_a_home_page_saying_what_it_does(demo, client, role):
    client.login(request=HttpRequest(), username=demo_username(role), password=DEMO_PASSWORD)
    page = client.get("/").content.decode()
    assert escape(str(Role(role).label)) in page
    assert escape(str(role_guide(role).summary)) in page


def test_home_page_shows_the_area_figures(demo, client):
    client.login(request=HttpRequest(), username="demo_street_official", password=DEMO_PASSWORD)
    page = client.get("/").content.decode()
    assert "Subdistrict" in page
    assert "Population" in page


def test_chinese_is_the_default_language(demo):
    page = Client().get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page


def test_accept_language_en_gives_english(demo):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_the_language_switch_remembers_the_choice(demo):
    browser = Client()
    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert '<html lang="en">' in browser.get("/accounts/login/").content.decode()


def test_repeated_failures_lock_the_login_page(demo, client, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "demo_resident", "password": "guess"})
    response = client.post(
        "/accounts/login/", {"username": "demo_resident", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
