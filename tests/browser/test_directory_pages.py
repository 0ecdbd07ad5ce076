"""A resident finds meal assistance near a village, in Chinese and in English."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from linli.regions.models import Region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_finds_meals_near_a_village_in_chinese_then_english(
    page, live_server, screenshot
):
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    village = Region.objects.filter(kind="rural").order_by("code")[0]

    page.goto("/services/")
    page.fill("#q", "助餐")
    page.select_option("#near", village.code)
    page.click("form.search-form button.primary")
    page.wait_for_selector(".result")
    first = page.locator(".result").first
    assert "助餐" in first.inner_text()
    assert page.locator(".map .leaflet-interactive").count() >= 2  # outlines and points
    screenshot(page, "search-meals-near-village-zh")

    page.select_option("#language-select", "en")
    page.click(".language-switch button")
    page.wait_for_selector(".result")
    assert "Meal assistance" in page.locator(".result").first.inner_text()
    assert "km" in page.locator(".result .where").first.inner_text()

    page.locator(".result .where a").first.click()
    page.wait_for_selector("h1")
    assert "Opening hours" in page.inner_text("main")
    screenshot(page, "facility-en")
    assert hosts == {urlparse(live_server.url).netloc}
