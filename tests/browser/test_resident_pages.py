"""The residents pages in a real Chromium over the demo: a community worker finds older
people living alone and reads a phone number for a stated reason; the resident downloads
their data and asks for a correction; the auditor sees both readings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linli.residents.choices import PriorityGroup
from linli.residents.models import AccessEvent, Correction, Resident

from .conftest import SCREENSHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextmanager
def person(browser, live_server, username: str, **options) -> Iterator:
    """A fresh browser (no cookies) signed in as `username`, noting any refused script
    or style: the pages must live with the strict content security policy."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, username)
    try:
        yield page
    finally:
        context.close()
    assert refused == []


def test_a_worker_unmasks_a_phone_the_resident_downloads_and_the_auditor_sees_it(
    browser, live_server, demo, screenshot, tmp_path: Path
):
    with person(browser, live_server, "demo_community_worker") as page:
        page.click("#residents-pages a[href='/residents/']")
        page.select_option("#id_group", PriorityGroup.ELDERLY_LIVING_ALONE)
        page.click("form.search-form button.primary")
        page.wait_for_url("**/residents/?*group=elderly_living_alone*")
        rows = page.locator("tr.resident-row")
        assert rows.count() > 0
        assert rows.first.locator(".badge-living-alone").count() == 1
        screenshot(page, "residents-list-zh")

        rows.first.locator("a").first.click()
        page.wait_for_selector("#unmask")
        resident = Resident.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
        assert resident.living_alone
        masked = page.inner_text("#masked-phone")
        if resident.phone:
            assert resident.phone not in page.content()
            assert masked == f"{resident.phone[:3]}****{resident.phone[-4:]}"
        page.check("input[name=show][value=phone]")
        page.fill("#id_purpose", "电话确认助餐送餐时间")
        page.click("#unmask button.primary")
        page.wait_for_selector("#unmasked")
        assert page.inner_text("#unmasked dd") == (resident.phone or "(none)")
        screenshot(page, "resident-card-unmasked-zh")
        event = AccessEvent.objects.get(action=AccessEvent.Action.UNMASK)
        assert (event.resident_id, event.fields, event.purpose) == (
            resident.pk,
            ["phone"],
            "电话确认助餐送餐时间",
        )
        # The values live in that one response (never in a URL or the session): opening
        # the card again shows it masked, and logs nothing.
        page.goto(f"/residents/{resident.pk}/")
        assert page.locator("#unmasked").count() == 0
        assert AccessEvent.objects.count() == 1

        page.click("#edit-resident")
        page.wait_for_selector("#resident-form")
        assert resident.identity_number not in page.content()
        assert page.input_value("#id_phone") == ""
        screenshot(page, "resident-edit-zh")

    with person(browser, live_server, "demo_district_official") as page:
        page.goto("/residents/counts/")
        page.locator("#street-counts tbody th a").first.click()
        page.wait_for_selector("#community-counts")
        assert page.locator("#community-counts tbody tr").count() > 0
        screenshot(page, "residents-counts-zh")

    me = Resident.objects.get(user__username="demo_resident")
    with person(browser, live_server, "demo_resident") as page:
        page.click("#residents-pages a[href='/me/record/']")
        record = page.locator(f"#record-{me.pk}")
        with page.expect_download() as download:
            record.locator("button.download").click()
        assert download.value.suggested_filename == f"resident-{me.pk}.json"
        saved = tmp_path / "mine.json"
        download.value.save_as(saved)
        data = json.loads(saved.read_text(encoding="utf-8"))
        assert (data["id"], data["name"], data["phone"]) == (me.id, me.name, me.phone)

        record.locator("textarea[name=message]").fill("我的门牌号应为12号，不是1号。")
        record.locator("form.ask-correction button").click()
        page.wait_for_selector(".messages li")
        assert Correction.objects.get().message == "我的门牌号应为12号，不是1号。"
        assert "我的门牌号应为12号" in page.inner_text(f"#record-{me.pk}")
        assert "demo_resident" in page.inner_text(f"#record-{me.pk} .access-events")
        screenshot(page, "my-record-zh")

    with person(browser, live_server, "demo_community_worker") as page:
        page.click("#residents-pages a[href='/residents/corrections/']")
        task = page.locator("article.task").first
        task.locator("select[name=status]").select_option(Correction.Status.DONE)
        task.locator("textarea[name=answer]").fill("已改为12号")
        screenshot(page, "residents-corrections-zh")
        task.locator("button.primary").click()
        page.wait_for_selector(".messages li")
        assert Correction.objects.get().status == Correction.Status.DONE

    with person(browser, live_server, "demo_auditor") as page:
        page.click("#residents-pages a[href='/audit/access-events/']")
        page.wait_for_selector("tr.access-event")
        text = page.inner_text(".events-table")
        assert "demo_community_worker" in text
        assert "电话确认助餐送餐时间" in text
        assert "demo_resident" in text
        assert page.locator("tr.access-event").count() == 2
        screenshot(page, "access-events-zh")
        page.select_option("#id_action", AccessEvent.Action.UNMASK)
        page.click("form.search-form button.primary")
        page.wait_for_url("**action=unmask*")
        assert page.locator("tr.access-event").count() == 1
        with page.expect_download() as download:
            page.click("#export-csv")
        saved = tmp_path / "events.csv"
        download.value.save_as(saved)
        body = saved.read_bytes()
        assert body.startswith(b"\xef\xbb\xbf")
        assert "电话确认助餐送餐时间" in body.decode("utf-8-sig")


def test_the_resident_list_fits_a_phone(browser, live_server, demo):
    with person(
        browser,
        live_server,
        "demo_community_worker",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
    ) as page:
        page.goto("/residents/")
        page.wait_for_selector("tr.resident-row")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        font_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font_size >= 18
        # One screenful of people (the whole page is 25 of them tall).
        page.evaluate("document.getElementById('resident-count').scrollIntoView()")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "residents-list-phone-zh.png"))
