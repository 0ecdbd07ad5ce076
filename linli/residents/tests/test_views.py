"""The residents pages: masked by default, scoped, every unmasking logged, bad input refused
at its field with nothing stored."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import HttpRequest
from django.test import Client

from linli.accounts.demo import DEMO_PASSWORD
from linli.accounts.models import User
from linli.accounts.selectors import user_scope
from linli.core.pii import identity_check_character
from linli.regions.models import Region
from linli.residents.choices import ConsentPurpose, PriorityGroup, RelationKind
from linli.residents.models import AccessEvent, Consent, Correction, Resident
from linli.residents.selectors import LIST_ROLES, priority_counts, residents_filter
from linli.residents.services import acts_for, resident_unmask

pytestmark = pytest.mark.django_db


def logged_in(username: str, language: str = "en") -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert browser.login(request=HttpRequest(), username=username, password=DEMO_PASSWORD)
    return browser


def user(username: str) -> User:
    return User.objects.get(username=username)


def worker_community() -> Region:
    return Region.objects.get(role_assignments__user__username="demo_community_worker")


def html(response) -> str:
    return response.content.decode()


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def identity(born: str, serial: str = "123") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


@pytest.fixture
def worker(demo) -> Client:
    return logged_in("demo_community_worker")


@pytest.fixture
def elder(demo) -> Resident:
    """demo_resident's older relative, who consented to their acting for them."""
    return Resident.objects.get(
        relations__kind=RelationKind.PROXY, relations__person__user__username="demo_resident"
    )


@pytest.fixture
def me(demo) -> Resident:
    return Resident.objects.get(user__username="demo_resident")


def elsewhere() -> Resident:
    """A resident of the demo district outside the community worker's community."""
    return (
        Resident.objects.exclude(community=worker_community())
        .exclude(phone_index="")
        .order_by("id")[0]
    )


# The list -------------------------------------------------------------------------------


def test_the_list_shows_the_workers_community_masked(worker):
    response = worker.get("/residents/")
    assert response.status_code == 200
    page = html(response)
    community = worker_community()
    here = Resident.objects.filter(community=community)
    assert response.context["page"].paginator.count == here.count()
    assert f"{here.count()} residents" in page
    rows = response.context["rows"]
    assert len(rows) == 25
    for row in rows:
        resident = row["resident"]
        assert resident.community_id == community.code
        assert resident.name in page
        if resident.phone:
            assert resident.phone not in page
            assert f"{resident.phone[:3]}****{resident.phone[-4:]}" in page
        assert resident.identity_number not in page
        if resident.health_notes:
            assert resident.health_notes not in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_filtering_by_priority_group_and_age_band(worker):
    community = worker_community()
    here = Resident.objects.filter(community=community)
    response = worker.get("/residents/", {"group": PriorityGroup.DISABLED})
    expected = residents_filter(here, group=PriorityGroup.DISABLED)
    assert 0 < response.context["page"].paginator.count == expected.count()
    for row in response.context["rows"]:
        assert ("disability", "Disability") in row["badges"]
        assert row["resident"].disability_category not in html(response).split("<main")[1]
    response = worker.get(
        "/residents/", {"group": PriorityGroup.ELDERLY_LIVING_ALONE, "age_band": "80+"}
    )
    expected = residents_filter(here, group=PriorityGroup.ELDERLY_LIVING_ALONE, age_band="80+")
    assert response.context["page"].paginator.count == expected.count()
    assert all(row["masked"]["age"] >= 80 for row in response.context["rows"])


def test_a_community_outside_the_scope_is_refused_at_its_field(worker):
    response = worker.get("/residents/", {"community": "980101001001"})
    assert response.status_code == 400
    assert "Select a valid choice" in html(response)
    # The refused filter narrows nothing, and nothing of the other tree leaks.
    assert response.context["page"].paginator.count == (
        Resident.objects.filter(community=worker_community()).count()
    )


def test_a_street_official_sees_the_street_and_filters_by_community(demo):
    official = logged_in("demo_street_official")
    street = Region.objects.get(role_assignments__user__username="demo_street_official")
    response = official.get("/residents/")
    assert response.context["page"].paginator.count == (
        Resident.objects.filter(community__parent=street).count()
    )
    other = Region.objects.filter(parent=street).order_by("-code")[0]
    response = official.get("/residents/", {"community": other.code})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == (
        Resident.objects.filter(community=other).count()
    )
    assert all(row["resident"].community_id == other.code for row in response.context["rows"])
    # A whole street is a choice too, for those who see it whole.
    response = official.get("/residents/", {"community": street.code})
    assert response.status_code == 200


def test_a_resident_is_sent_to_their_record_and_a_volunteer_is_refused(demo):
    response = logged_in("demo_resident").get("/residents/")
    assert response.status_code == 302
    assert response["Location"] == "/me/record/"
    assert logged_in("demo_social_worker").get("/residents/").status_code == 403
    # A volunteer who is a resident of the register is sent to their own record.
    assert logged_in("demo_volunteer").get("/residents/")["Location"] == "/me/record/"
    assert logged_in("demo_auditor").get("/residents/counts/").status_code == 403


def test_the_list_needs_a_login(demo, client):
    response = client.get("/residents/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_list_costs_a_fixed_number_of_queries(worker, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        worker.get("/residents/")
    with django_assert_max_num_queries(14):
        worker.get("/residents/", {"page": 3})


# Counts ---------------------------------------------------------------------------------


def test_counts_per_street_and_community_add_up_and_link_to_the_list(demo):
    official = logged_in("demo_district_official")
    response = official.get("/residents/counts/")
    assert response.status_code == 200
    district = user_scope(user("demo_district_official"), roles=LIST_ROLES)
    counts = priority_counts(scope=district)
    everyone = sum(figures.get("residents", 0) for figures in counts.values())
    totals = {cell["label"]: cell["value"] for cell in response.context["totals"]}
    assert totals["Residents"] == everyone == Resident.objects.count()
    assert len(response.context["street_rows"]) > 1
    assert response.context["community_rows"] == []
    street = response.context["street_rows"][0]["region"]
    response = official.get("/residents/counts/", {"street": street.code})
    rows = response.context["community_rows"]
    assert {row["region"].code for row in rows} == {
        code for code in counts if code.startswith(street.prefix)
    }
    first = rows[0]
    assert first["cells"][0]["url"] == f"/residents/?community={first['region'].code}"
    assert first["cells"][1]["url"].endswith(f"&group={PriorityGroup.ELDERLY}")
    listed = official.get(first["cells"][0]["url"])
    assert listed.context["page"].paginator.count == first["cells"][0]["value"]


def test_edits_move_the_counts(worker, demo):
    community = worker_community()
    elder = Resident.objects.filter(
        community=community, living_alone=False, birth_year__lte=1950
    ).order_by("id")[0]
    scope = user_scope(user("demo_community_worker"), roles=LIST_ROLES)
    before = priority_counts(scope=scope)[community.code]
    response = worker.post(
        f"/residents/{elder.pk}/edit/",
        {
            "name": elder.name,
            "community": community.code,
            "address": elder.address,
            "sex": elder.sex,
            "living_alone": "on",
            "difficulty": "subsistence" if not elder.difficulty else "",
        },
    )
    assert response.status_code == 302
    after = priority_counts(scope=scope)[community.code]
    assert after["elderly_living_alone"] == before["elderly_living_alone"] + 1
    if not elder.difficulty:
        assert after["family_in_difficulty"] == before.get("family_in_difficulty", 0) + 1
    page = worker.get("/residents/counts/")
    cells = page.context["community_rows"][0]["cells"]
    assert {cell["label"]: cell["value"] for cell in cells}["Older person living alone"] == (
        after["elderly_living_alone"]
    )


# The card and unmasking -----------------------------------------------------------------


def test_the_card_is_masked_and_offers_unmasking_to_the_keeper(worker, elder):
    response = worker.get(f"/residents/{elder.pk}/")
    assert response.status_code == 200
    page = html(response)
    assert elder.name in page
    assert elder.phone not in page
    assert elder.identity_number not in page
    assert f"{elder.identity_number[:6]}********{elder.identity_number[-4:]}" in page
    assert f'action="/residents/{elder.pk}/unmask/"' in page
    assert "Proxy" in page  # the relation to demo_resident
    assert f"/residents/consents/{elder.consents.get().pk}/withdraw/" in page


def test_unmasking_shows_the_value_once_and_logs_one_event(worker, elder):
    response = worker.post(
        f"/residents/{elder.pk}/unmask/",
        {"show": ["phone"], "purpose": "Call about the meal service"},
    )
    assert response.status_code == 200
    assert elder.phone in html(response)
    assert elder.identity_number not in html(response)
    event = AccessEvent.objects.get()
    assert event.action == AccessEvent.Action.UNMASK
    assert event.actor_username == "demo_community_worker"
    assert event.resident_id == elder.pk
    assert event.fields == ["phone"]
    assert event.purpose == "Call about the meal service"
    assert response["Cache-Control"].startswith("max-age=0")
    # Once: the card is masked again on the next visit.
    assert elder.phone not in html(worker.get(f"/residents/{elder.pk}/"))
    assert AccessEvent.objects.count() == 1


def test_unmasking_without_a_purpose_or_a_field_is_refused_at_the_field(worker, elder):
    response = worker.post(f"/residents/{elder.pk}/unmask/", {"show": ["phone"], "purpose": ""})
    assert response.status_code == 400
    assert response.context["unmask_form"].errors["purpose"] == ["Say why you need to see this."]
    assert elder.phone not in html(response)
    response = worker.post(f"/residents/{elder.pk}/unmask/", {"purpose": "Checking the record"})
    assert response.status_code == 400
    assert "show" in response.context["unmask_form"].errors
    response = worker.post(
        f"/residents/{elder.pk}/unmask/", {"show": ["name"], "purpose": "Checking the record"}
    )
    assert response.status_code == 400
    assert AccessEvent.objects.count() == 0


def test_an_official_sees_the_card_masked_and_may_not_unmask(demo, elder):
    official = logged_in("demo_street_official")
    response = official.get(f"/residents/{elder.pk}/")
    assert response.status_code == 200
    assert response.context["unmask_form"] is None
    assert "/unmask/" not in html(response)
    assert "/withdraw/" not in html(response)
    response = official.post(
        f"/residents/{elder.pk}/unmask/", {"show": ["phone"], "purpose": "Just curious"}
    )
    assert response.status_code == 403
    assert elder.phone not in html(response)
    assert "may not see these details" in html(response)
    assert AccessEvent.objects.count() == 0


def test_a_card_outside_the_scope_is_not_found(worker, demo):
    assert worker.get(f"/residents/{elsewhere().pk}/").status_code == 404
    assert worker.post(
        f"/residents/{elsewhere().pk}/unmask/", {"show": ["phone"], "purpose": "Looking around"}
    ).status_code == (404)
    assert worker.get("/residents/99999999/").status_code == 404
    assert AccessEvent.objects.count() == 0


def test_a_household_lists_its_members_masked(worker, elder):
    household = elder.household
    response = worker.get(f"/residents/households/{household.pk}/")
    assert response.status_code == 200
    page = html(response)
    assert household.address in page
    members = Resident.objects.filter(household=household)
    assert {row["resident"].pk for row in response.context["rows"]} == {m.pk for m in members}
    for member in members:
        assert member.name in page
        if member.phone:
            assert member.phone not in page
    assert logged_in("demo_volunteer").get(
        f"/residents/households/{household.pk}/"
    ).status_code == (404)
    other = elsewhere().household
    assert other is not None
    assert worker.get(f"/residents/households/{other.pk}/").status_code == 404


# Keepers' forms -------------------------------------------------------------------------


def new_resident(**fields):
    data = {
        "name": "测试居民",
        "community": worker_community().code,
        "address": "幸福路1号",
        "identity_number": identity("19400101", "124"),
        "phone": "13800138000",
        "living_alone": "on",
    }
    data.update(fields)
    return data


def test_registering_a_resident(worker):
    community = worker_community()
    scope = user_scope(user("demo_community_worker"), roles=LIST_ROLES)
    before = priority_counts(scope=scope)[community.code]
    response = worker.post("/residents/new/", new_resident())
    assert response.status_code == 302
    resident = Resident.objects.get(name="测试居民")
    assert response["Location"] == f"/residents/{resident.pk}/"
    assert resident.phone == "13800138000"
    assert resident.sex == "female"
    after = priority_counts(scope=scope)[community.code]
    assert after["residents"] == before["residents"] + 1
    assert after["elderly_living_alone"] == before["elderly_living_alone"] + 1


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("identity_number", "990102194001011230", "The last character should be"),
        ("identity_number", "99010219401301123X", "does not exist"),
        ("phone", "12345", "A mobile number has 11 digits"),
        ("name", "", "A name is required."),
        ("birth_date", "1950-01-01", "The identity number says 1940-01-01."),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_stored(worker, field, value, reason):
    count = Resident.objects.count()
    response = worker.post("/residents/new/", new_resident(**{field: value}))
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert any(reason in error for error in errors), errors
    assert Resident.objects.count() == count


def test_a_duplicate_identity_number_points_at_the_existing_record(worker, elder):
    response = worker.post("/residents/new/", new_resident(identity_number=elder.identity_number))
    assert response.status_code == 400
    assert response.context["form"].errors["identity_number"] == [
        f"Already registered: resident no. {elder.pk}."
    ]


def test_a_community_outside_the_scope_cannot_be_chosen(worker):
    count = Resident.objects.count()
    response = worker.post("/residents/new/", new_resident(community=elsewhere().community_id))
    assert response.status_code == 400
    assert "community" in response.context["form"].errors
    assert Resident.objects.count() == count


def test_only_keepers_register(demo):
    assert logged_in("demo_street_official").get("/residents/new/").status_code == 403
    assert logged_in("demo_resident").post("/residents/new/", new_resident()).status_code == 403
    assert not Resident.objects.filter(name="测试居民").exists()


def test_the_edit_form_never_shows_sensitive_values_in_clear(worker, elder):
    response = worker.get(f"/residents/{elder.pk}/edit/")
    assert response.status_code == 200
    page = html(response)
    assert elder.phone not in page
    assert elder.identity_number not in page
    assert elder.birth_date.isoformat() not in page
    if elder.health_notes:
        assert elder.health_notes not in page
    assert f"Stored ({elder.phone[:3]}****{elder.phone[-4:]})" in page
    assert elder.name in page
    assert elder.address in page


def test_an_edit_keeps_blank_sensitive_fields_and_erases_those_ticked(worker, elder):
    phone, identity_number = elder.phone, elder.identity_number
    community = worker_community()
    response = worker.post(
        f"/residents/{elder.pk}/edit/",
        {
            "name": "新名字",
            "community": community.code,
            "address": elder.address,
            "sex": elder.sex,
            "living_alone": "on",
            "health_notes": "",
            "erase": ["phone"],
        },
    )
    assert response.status_code == 302
    elder.refresh_from_db()
    assert elder.name == "新名字"
    assert elder.identity_number == identity_number
    assert elder.phone == "" != phone
    assert elder.living_alone


def test_an_edit_with_a_bad_phone_changes_nothing(worker, elder):
    name, phone = elder.name, elder.phone
    response = worker.post(
        f"/residents/{elder.pk}/edit/",
        {"name": "新名字", "community": worker_community().code, "phone": "99999"},
    )
    assert response.status_code == 400
    assert "A mobile number has 11 digits" in response.context["form"].errors["phone"][0]
    elder.refresh_from_db()
    assert (elder.name, elder.phone) == (name, phone)


def test_others_may_not_edit(demo, elder):
    assert logged_in("demo_street_official").get(f"/residents/{elder.pk}/edit/").status_code == 403
    assert logged_in("demo_community_worker").get(
        f"/residents/{elsewhere().pk}/edit/"
    ).status_code == (404)


# The resident's own record --------------------------------------------------------------


def test_a_resident_sees_their_own_record_and_those_they_act_for_only(demo, me, elder):
    browser = logged_in("demo_resident")
    response = browser.get("/me/record/")
    assert response.status_code == 200
    assert [r["resident"].pk for r in response.context["records"]] == [me.pk, elder.pk]
    page = html(response)
    for resident in (me, elder):
        assert resident.name in page
        if resident.phone:
            assert resident.phone not in page
        assert resident.identity_number not in page
    assert browser.get(f"/residents/{elsewhere().pk}/").status_code == 404
    # Their own card is masked too, and offers no unmasking.
    card = browser.get(f"/residents/{me.pk}/")
    assert card.status_code == 200
    assert card.context["unmask_form"] is None


def test_a_resident_downloads_their_data_as_json_and_it_is_logged(demo, me):
    browser = logged_in("demo_resident")
    response = browser.post(f"/me/record/{me.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="resident-{me.pk}.json"'
    data = json.loads(response.content)
    assert data["id"] == me.pk
    assert data["identity_number"] == me.identity_number
    assert data["phone"] == me.phone
    event = AccessEvent.objects.get()
    assert (event.action, event.resident_id) == (AccessEvent.Action.DOWNLOAD, me.pk)
    # The reading shows on their page: who looked, and why.
    page = html(browser.get("/me/record/"))
    assert "Downloaded by the resident" in page
    assert browser.get(f"/me/record/{me.pk}/download/").status_code == 405


def test_nobody_downloads_another_persons_record(demo, me):
    assert logged_in("demo_community_worker").post(f"/me/record/{me.pk}/download/").status_code == (
        404
    )
    assert logged_in("demo_resident").post(
        f"/me/record/{elsewhere().pk}/download/"
    ).status_code == (404)
    assert AccessEvent.objects.count() == 0


def test_the_resident_sees_who_unmasked_their_record_and_why(demo, me):
    resident_unmask(
        actor=user("demo_community_worker"),
        resident=me,
        fields=["phone"],
        purpose="Confirm the meal delivery time",
    )
    page = html(logged_in("demo_resident").get("/me/record/"))
    assert "demo_community_worker" in page
    assert "Confirm the meal delivery time" in page


def test_a_correction_asked_by_the_resident_is_answered_by_the_worker(demo, me):
    browser = logged_in("demo_resident")
    response = browser.post(f"/me/record/{me.pk}/correction/", {"message": "x"})
    assert response.status_code == 400
    assert response.context["records"][0]["ask_form"].errors["message"] == [
        "Say what is wrong and what is right."
    ]
    assert Correction.objects.count() == 0
    response = browser.post(
        f"/me/record/{me.pk}/correction/", {"message": "My address is 幸福路2号, not 1号."}
    )
    assert response.status_code == 302
    correction = Correction.objects.get()
    assert correction.resident_id == me.pk

    worker = logged_in("demo_community_worker")
    tasks = worker.get("/residents/corrections/")
    assert tasks.status_code == 200
    assert "My address is 幸福路2号" in html(tasks)
    assert tasks.context["open_count"] == 1
    refused = worker.post(
        f"/residents/corrections/{correction.pk}/answer/", {"status": "declined", "answer": ""}
    )
    assert refused.status_code == 400
    assert refused.context["rows"][0]["form"].errors["answer"] == [
        "Say why the record stays as it is."
    ]
    done = worker.post(
        f"/residents/corrections/{correction.pk}/answer/", {"status": "done", "answer": "已更正"}
    )
    assert done.status_code == 302
    correction.refresh_from_db()
    assert correction.status == Correction.Status.DONE
    assert "已更正" in html(browser.get("/me/record/"))
    assert logged_in("demo_street_official").get("/residents/corrections/").status_code == 403


def test_withdrawing_a_proxy_consent_asks_first_then_ends_the_proxy(demo, me, elder):
    browser = logged_in("demo_resident")
    consent = Consent.objects.get(resident=elder, purpose=ConsentPurpose.PROXY)
    confirm = browser.get(f"/residents/consents/{consent.pk}/withdraw/?next=/me/record/")
    assert confirm.status_code == 200
    assert "no longer acts on the resident" in html(confirm)
    consent.refresh_from_db()
    assert consent.in_force
    response = browser.post(
        f"/residents/consents/{consent.pk}/withdraw/", {"next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/record/"
    consent.refresh_from_db()
    assert not consent.in_force
    assert not acts_for(user("demo_resident"), elder)
    records = browser.get("/me/record/").context["records"]
    assert [r["resident"].pk for r in records] == [me.pk]


def test_an_official_may_not_withdraw_a_consent(demo, elder):
    consent = Consent.objects.get(resident=elder, purpose=ConsentPurpose.PROXY)
    official = logged_in("demo_street_official")
    assert official.post(f"/residents/consents/{consent.pk}/withdraw/").status_code == 403
    consent.refresh_from_db()
    assert consent.in_force


# Access events --------------------------------------------------------------------------


@pytest.fixture
def unmasked(demo, elder):
    resident_unmask(
        actor=user("demo_community_worker"),
        resident=elder,
        fields=["phone", "identity_number"],
        purpose='=HYPERLINK("x") visit',
    )
    return elder


def test_the_auditor_browses_and_filters_access_events(unmasked):
    auditor = logged_in("demo_auditor")
    response = auditor.get("/audit/access-events/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    page = html(response)
    assert "demo_community_worker" in page
    assert unmasked.phone not in page
    assert (
        auditor.get("/audit/access-events/", {"record": unmasked.pk, "action": "unmask"})
        .context["page"]
        .paginator.count
        == 1
    )
    assert (
        auditor.get("/audit/access-events/", {"who": "nobody"}).context["page"].paginator.count == 0
    )
    assert (
        auditor.get("/audit/access-events/", {"action": "download"}).context["page"].paginator.count
        == 0
    )
    bad = auditor.get("/audit/access-events/", {"date_from": "2026-12-01", "date_to": "2026-01-01"})
    assert bad.status_code == 400
    assert "The end comes before the start." in html(bad)
    assert logged_in("demo_community_worker").get("/audit/access-events/").status_code == 403
    assert logged_in("demo_district_official").get("/audit/access-events/").status_code == 403


def test_the_auditor_exports_events_as_csv_for_excel(unmasked):
    response = logged_in("demo_auditor").get(
        "/audit/access-events/export.csv", {"action": "unmask"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="access-events-')
    body = streamed(response).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:4] == ["Time", "Who", "Action", "Record number"]
    assert len(rows) == 2
    row = rows[1]
    assert row[1:5] == [
        "demo_community_worker",
        "Unmasked",
        str(unmasked.pk),
        unmasked.community_id,
    ]
    assert row[6] == "Identity number; Phone"
    assert row[7] == '\'=HYPERLINK("x") visit'  # not a formula when opened in Excel
    assert unmasked.phone not in body
    # The export is about events, not residents: it writes no access event itself.
    assert AccessEvent.objects.count() == 1
    assert logged_in("demo_community_worker").get(
        "/audit/access-events/export.csv"
    ).status_code == (403)


# The home page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "present", "absent"),
    [
        ("demo_resident", ["/me/record/"], ["/residents/", "/audit/access-events/"]),
        (
            "demo_community_worker",
            ["/residents/", "/residents/new/", "/residents/corrections/"],
            ["/audit/access-events/"],
        ),
        ("demo_street_official", ["/residents/", "/residents/counts/"], ["/residents/new/"]),
        ("demo_auditor", ["/audit/access-events/"], ["/residents/counts/"]),
        ("demo_volunteer", ["/me/record/"], ["/residents/"]),
        ("demo_social_worker", [], ["/residents/", "/me/record/"]),
    ],
)
def test_the_home_page_links_to_the_pages_each_role_may_open(demo, username, present, absent):
    page = html(logged_in(username).get("/"))
    for url in present:
        assert f'href="{url}"' in page
    for url in absent:
        assert f'href="{url}"' not in page
