from __future__ import annotations

from urllib.parse import urlparse

import pytest

from linli.regions.models import Region

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_official_drills_down_the_tree_in_chinese_then_english(page, screenshot):
    log_in(page, "demo_district_official")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "赵敏" in page.inner_text("h1")
    screenshot(page, "home-district-official-zh")

    page.click("main a.button[href='/regions/']")
    assert "邻里区" in page.inner_text("h1")
    street = Region.objects.filter(parent_id="990102000000").order_by("code").first()
    assert street is not None
    screenshot(page, "region-district-zh")
    page.click(f"a[href='/regions/{street.code}/']")
    assert street.name in page.inner_text("h1")

    community = street.children.order_by("code").first()
    assert community is not None
    page.click(f"a[href='/regions/{community.code}/']")
    assert community.name in page.inner_text("h1")
    assert page.locator(".breadcrumbs a", has_text=street.name).count() == 1

    page.select_option("#language-select", "en")
    page.click(".language-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert community.name_en in page.inner_text("h1")
    page.click(".breadcrumbs a[href='/regions/990102000000/']")
    assert "Linli District" in page.inner_text("h1")
    assert (
        page.locator("table.figures tbody tr").count()
        == Region.objects.filter(parent_id="990102000000").count()
    )
    screenshot(page, "region-district-en")


def test_a_wrong_password_is_said_in_chinese(page):
    log_in_page = page.goto("/accounts/login/")
    assert log_in_page is not None
    assert log_in_page.ok
    page.fill("input[name=username]", "demo_resident")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit].primary")
    assert "用户名" in page.inner_text(".form-errors")


def test_the_home_page_fits_a_phone(browser, live_server, demo, screenshot):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
    )
    page = context.new_page()
    log_in(page, "demo_resident")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    font_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_size >= 18
    screenshot(page, "home-resident-phone-zh")
    context.close()


def test_swagger_ui_loads_everything_from_this_site(page, live_server):
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    log_in(page, "demo_system_admin")
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert hosts == {urlparse(live_server.url).netloc}
    assert not [e for e in errors if "Content Security Policy" in e]
