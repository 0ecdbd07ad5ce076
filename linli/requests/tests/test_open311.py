"""Open311 GeoReport v2 as an outside client sees it: list services, post a request with an
api_key, read it back in JSON and XML; the spec's errors; filters; no personal data in
the public GETs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from django.test import Client
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.pii import identity_check_character
from linli.regions.tests.factories import region_chain
from linli.requests.choices import Action, Channel, State, Urgency
from linli.requests.models import Open311Partner, RequestEvent, ServiceRequest
from linli.requests.open311.services import open311_partner_issue
from linli.requests.services import RequestInput, request_create, request_transition
from linli.residents.services import ResidentInput, resident_register

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# The home of the resident below: none of it may appear in a public answer.
HOME = "幸福里3号楼2单元501"
SECRET = "心脏支架术后，需要低盐饮食"
PHONE = "13912345678"


def identity(born: str, serial: str = "124") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


@pytest.fixture
def places(taxonomy):
    """Two communities of one street (the partner's), one of another street."""
    return {
        "home": region_chain(
            "990102001001", name="幸福里社区", name_en="Xingfuli", lat=30.0, lon=120.0
        ),
        "next": region_chain(
            "990102001002", name="朝阳社区", name_en="Chaoyang", lat=30.02, lon=120.02
        ),
        "away": region_chain(
            "990102002001", name="远山村", name_en="Yuanshan", lat=30.3, lon=120.3
        ),
    }


@pytest.fixture
def street(places):
    return places["home"].parent


@pytest.fixture
def issued(street):
    """A partner of the street, and its key."""
    return open311_partner_issue(name="12345 热线", region=street)


@pytest.fixture
def key(issued):
    return issued[1]


@pytest.fixture
def partner(issued):
    return issued[0]


@pytest.fixture
def resident_request(places):
    """A request a community worker took by phone for an older resident."""
    worker = UserFactory.create()
    RoleAssignmentFactory(user=worker, role=Role.COMMUNITY_WORKER, region=places["home"])
    elder = resident_register(
        actor=worker,
        data=ResidentInput(
            name="王秀英",
            community=places["home"],
            identity_number=identity("19410101"),
            phone=PHONE,
            address=HOME,
            living_alone=True,
        ),
    )
    return request_create(
        actor=worker,
        data=RequestInput(
            service="elderly_meals",
            person=elder,
            description=SECRET,
            latitude=30.00123,
            longitude=120.00456,
        ),
    )


def post(client: Client, fmt: str = "json", **form: str):
    return client.post(f"{BASE}requests.{fmt}", form)


def good_form(key: str, **extra: str) -> dict[str, str]:
    form = {
        "api_key": key,
        "service_code": "elderly_meals",
        "lat": "30.001",
        "long": "120.001",
        "description": "老人腿脚不便，需要送午餐",
        "first_name": "秀英",
        "last_name": "李",
        "phone": "138 0013 8000",
        "attribute[urgency]": "high",
    }
    if extra.get("service_code", "elderly_meals") == "elderly_meals":
        form.update({"attribute[people]": "2", "attribute[diet]": "soft"})
    form.update(extra)
    return form


def xml(response) -> ET.Element:
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own answer, in a test


def errors_of(response) -> list[dict]:
    body = response.json()
    assert isinstance(body, list)
    assert all(set(item) == {"code", "description"} for item in body)
    assert {item["code"] for item in body} == {response.status_code}
    return body


# --- services ---------------------------------------------------------------------


def test_services_list_the_taxonomy_in_json(client, places):
    response = client.get(f"{BASE}services.json")
    assert response.status_code == 200
    assert response["Content-Type"] == JSON_TYPE
    services = response.json()
    assert isinstance(services, list)
    meals = next(s for s in services if s["service_code"] == "elderly_meals")
    assert meals == {
        "service_code": "elderly_meals",
        "service_name": "Meal assistance",
        "description": "Elderly care: Meal assistance",
        "metadata": True,
        "type": "realtime",
        "keywords": "elderly_meals, 助餐, Meal assistance, 养老服务, Elderly care",
        "group": "Elderly care",
    }
    codes = {s["service_code"] for s in services}
    # The eight fields are groups, not services.
    assert "elderly_care" not in codes
    assert {"safety_legal_aid", "childcare_nursery", "convenience_repair"} <= codes
    assert len(codes) == len(services) == 41


def test_services_list_in_xml_and_in_chinese(places):
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"{BASE}services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == XML_TYPE
    root = xml(response)
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    meals = next(s for s in root if s.findtext("service_code") == "elderly_meals")
    assert [child.tag for child in meals] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert meals.findtext("service_name") == "助餐"
    assert meals.findtext("group") == "养老服务"
    assert meals.findtext("metadata") == "true"
    assert meals.findtext("type") == "realtime"


def test_a_service_definition_lists_its_attributes(client, places):
    response = client.get(f"{BASE}services/elderly_meals.json")
    assert response.status_code == 200
    definition = response.json()
    assert definition["service_code"] == "elderly_meals"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == [
        "urgency",
        "wanted_from",
        "wanted_until",
        "people",
        "diet",
    ]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5]
    urgency = attributes[0]
    assert urgency["datatype"] == "singlevaluelist"
    assert urgency["required"] is False
    assert urgency["variable"] is True
    assert [v["key"] for v in urgency["values"]] == ["low", "normal", "high", "urgent"]
    assert attributes[1]["datatype"] == "datetime"
    assert "time zone" in attributes[1]["datatype_description"]
    assert attributes[3]["datatype"] == "number"
    assert "values" not in attributes[3]

    root = xml(client.get(f"{BASE}services/elderly_medical_escort.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "elderly_medical_escort"
    appointment = root.find("attributes/attribute[code='appointment']")
    assert appointment is not None
    assert appointment.findtext("required") == "true"
    assert appointment.findtext("datatype") == "datetime"
    mobility = root.find("attributes/attribute[code='mobility']")
    assert mobility is not None
    assert [v.findtext("key") for v in mobility.findall("values/value")] == [
        "walks",
        "walking_aid",
        "wheelchair",
        "bedridden",
    ]


def test_a_service_with_nothing_more_to_ask_takes_urgency_only(client, places):
    definition = client.get(f"{BASE}services/culture_library.json").json()
    assert [a["code"] for a in definition["attributes"]] == ["urgency"]


@pytest.mark.parametrize("code", ["no_such_service", "elderly_care"])
def test_an_unknown_service_definition_is_a_404_in_the_specs_format(client, places, code):
    response = client.get(f"{BASE}services/{code}.json")
    assert response.status_code == 404
    assert response["Content-Type"] == JSON_TYPE
    [error] = errors_of(response)
    assert code in error["description"]
    response = client.get(f"{BASE}services/{code}.xml")
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert code in (root.findtext("error/description") or "")


# --- posting a request and reading it back ------------------------------------------


def test_an_external_client_posts_a_request_and_reads_it_back(client, places, partner, key):
    response = post(client, **good_form(key))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == JSON_TYPE
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert created["service_notice"].startswith("Expected to be done by ")
    request = ServiceRequest.objects.get(public_id=created["service_request_id"])
    # The same state machine as everyone's: submitted, then triaged.
    assert request.state == State.TRIAGED
    assert request.channel == Channel.OPEN311
    assert request.partner == partner
    assert request.requested_by is None
    assert request.community == places["home"]
    assert request.urgency == Urgency.HIGH
    assert request.contact_name == "李秀英"
    assert request.contact_phone == "13800138000"
    assert request.description.startswith("老人腿脚不便，需要送午餐\n")
    assert request.description.count("\n") == 2  # people and diet, one line each
    assert (request.latitude, request.longitude) == (30.001, 120.001)
    assert list(request.events.values_list("action", "actor_label")) == [
        (Action.SUBMIT, "open311:12345 热线"),
        (Action.TRIAGE, "system"),
    ]

    # Read back by the partner: JSON…
    mine = client.get(f"{BASE}requests/{request.public_id}.json", {"api_key": key})
    assert mine.status_code == 200
    [record] = mine.json()
    assert list(record) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert record["service_request_id"] == request.public_id
    assert record["status"] == "open"
    assert record["status_notes"] == "Waiting for a responder"
    assert record["service_code"] == "elderly_meals"
    assert record["service_name"] == "Meal assistance"
    assert record["description"] == request.description
    assert record["agency_responsible"] == "Xingfuli"
    assert (record["lat"], record["long"]) == (30.001, 120.001)
    assert record["address_id"] == "990102001001"
    assert record["media_url"] is None
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(record[name]), record[name]
    assert record["requested_datetime"].endswith("+08:00")
    assert request.due_at is not None
    expected = dt.datetime.fromisoformat(record["expected_datetime"])
    assert expected == request.due_at.replace(microsecond=0)

    # …and XML.
    response = client.get(f"{BASE}requests/{request.public_id}.xml", {"api_key": key})
    assert response["Content-Type"] == XML_TYPE
    root = xml(response)
    assert root.tag == "service_requests"
    [element] = list(root)
    assert element.tag == "request"
    assert element.findtext("service_request_id") == request.public_id
    assert element.findtext("status") == "open"
    assert element.findtext("description") == request.description
    assert element.findtext("lat") == "30.001"
    assert element.find("media_url") is not None
    assert element.findtext("media_url") == ""


def test_a_request_posted_for_xml_answers_in_xml(client, places, key):
    response = post(client, "xml", **good_form(key))
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert [child.tag for child in request] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    assert ServiceRequest.objects.filter(public_id=request.findtext("service_request_id")).exists()


def test_the_window_comes_from_the_attributes(client, places, key):
    start = timezone.localtime() + dt.timedelta(days=1)
    end = start + dt.timedelta(hours=2)
    response = post(
        client,
        **good_form(
            key,
            **{
                "attribute[wanted_from]": start.isoformat(timespec="seconds"),
                # Unencoded '+' read as a space, as some clients send it.
                "attribute[wanted_until]": end.isoformat(timespec="seconds").replace("+", " "),
            },
        ),
    )
    assert response.status_code == 200, response.content
    request = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert request.window_start == start.replace(microsecond=0)
    assert request.window_end == end.replace(microsecond=0)


def test_a_community_code_or_a_community_name_is_a_location(client, places, key):
    by_code = post(
        client,
        api_key=key,
        service_code="convenience_repair",
        address_id="990102001002",
        address_string="朝阳社区 5号楼",
    )
    assert by_code.status_code == 200, by_code.content
    request = ServiceRequest.objects.get(public_id=by_code.json()[0]["service_request_id"])
    assert request.community == places["next"]
    assert request.address == "朝阳社区 5号楼"
    assert request.latitude is None

    by_name = post(
        client, api_key=key, service_code="convenience_repair", address_string="朝阳社区7号楼"
    )
    assert by_name.status_code == 200, by_name.content
    request = ServiceRequest.objects.get(public_id=by_name.json()[0]["service_request_id"])
    assert request.community == places["next"]


def test_tokens_resolve_to_the_request_itself(client, places, key):
    public_id = post(client, **good_form(key)).json()[0]["service_request_id"]
    response = client.get(f"{BASE}tokens/{public_id}.json")
    assert response.status_code == 200
    assert response.json() == [{"service_request_id": public_id, "token": public_id}]
    root = xml(client.get(f"{BASE}tokens/{public_id.lower()}.xml"))
    assert root.tag == "service_requests"
    assert root.findtext("request/token") == public_id
    assert root.findtext("request/service_request_id") == public_id
    assert client.get(f"{BASE}tokens/R000101-XXXXX.json").status_code == 404
    assert client.get(f"{BASE}tokens/not%20a%20token!.json").status_code == 400


# --- refusals -------------------------------------------------------------------------


def _nothing_created() -> None:
    assert ServiceRequest.objects.count() == 0
    assert RequestEvent.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_without_a_valid_api_key_is_a_403(client, places, partner, key, fmt):
    form = good_form(key)
    del form["api_key"]
    for attempt in (form, {**form, "api_key": "wrong"}, {**form, "api_key": key[:-1]}):
        response = post(client, fmt, **attempt)
        assert response.status_code == 403
        if fmt == "json":
            [error] = errors_of(response)
            assert "api_key" in error["description"]
        else:
            root = xml(response)
            assert root.tag == "errors"
            assert root.findtext("error/code") == "403"
    partner.active = False
    partner.save()
    assert post(client, fmt, **good_form(key)).status_code == 403
    _nothing_created()


def test_a_wrong_api_key_is_refused_on_reading_too(client, places, key):
    response = client.get(f"{BASE}requests.json", {"api_key": "not-a-key"})
    assert response.status_code == 403
    errors_of(response)


def test_a_request_without_a_location_is_a_400(client, places, key):
    form = good_form(key)
    del form["lat"], form["long"]
    response = post(client, **form)
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["description"].startswith("location: Say where")
    _nothing_created()


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"service_code": "no_such_service"}, "service_code"),
        ({"service_code": "elderly_care"}, "service_code"),
        ({"service_code": ""}, "service_code"),
        # Beside the partner's street, inside the deployment.
        ({"lat": "30.3", "long": "120.3"}, "lat"),
        # Inside China, but far from every community Linli serves here.
        ({"lat": "39.9", "long": "116.4"}, "lat"),
        # Outside the country.
        ({"lat": "0", "long": "0"}, "lat"),
        ({"lat": "abc"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"long": ""}, "long"),
        ({"address_id": "990102002001"}, "address_id"),
        ({"address_id": "990102001000"}, "address_id"),
        ({"address_id": "x"}, "address_id"),
        ({"phone": "12345"}, "phone"),
        ({"attribute[people]": "two"}, "attribute[people]"),
        ({"attribute[people]": "99"}, "attribute[people]"),
        ({"attribute[diet]": "chips"}, "attribute[diet]"),
        ({"attribute[urgency]": "yesterday"}, "attribute[urgency]"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),
        ({"attribute": "x"}, "attribute"),
        ({"attribute[wanted_until]": "2020-01-01T10:00:00+08:00"}, "attribute[wanted_until]"),
        ({"attribute[wanted_from]": "2026-12-01T10:00:00"}, "attribute[wanted_from]"),
        ({"description": "x" * 2001}, "description"),
        ({"first_name": "x" * 101}, "first_name"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, places, key, changes, parameter):
    response = post(client, **good_form(key, **changes))
    assert response.status_code == 400, response.content
    errors = errors_of(response)
    assert any(e["description"].startswith(f"{parameter}: ") for e in errors), errors
    _nothing_created()


def test_a_required_attribute_is_required(client, places, key):
    form = good_form(key, service_code="elderly_medical_escort")
    response = post(client, "xml", **form)
    assert response.status_code == 400
    root = xml(response)
    assert (
        root.findtext("error/description") == "attribute[appointment]: This attribute is required."
    )
    appointment = (timezone.now() + dt.timedelta(days=2)).isoformat()
    form["attribute[appointment]"] = appointment
    form["attribute[mobility]"] = "wheelchair"
    response = post(client, **form)
    assert response.status_code == 200, response.content
    request = ServiceRequest.objects.get()
    assert request.description.count("\n") == 2


def test_an_unreadable_form_is_a_400_in_the_specs_format(client, places, key):
    form = {f"f{i}": "x" for i in range(1100)}
    response = post(client, **good_form(key, **form))
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["description"] == "The request could not be read."
    _nothing_created()


def test_an_address_without_a_known_community_is_a_400(client, places, key):
    response = post(client, api_key=key, service_code="convenience_repair", address_string="某处")
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["description"].startswith("address_string: Cannot tell the community")
    _nothing_created()


def test_anything_else_is_the_specs_404_or_405(client, places):
    for path in ("", "services", "services.csv", "requests.html", "nothing/here.json"):
        response = client.get(BASE + path)
        assert response.status_code == 404, path
        assert response["Content-Type"] in (XML_TYPE, JSON_TYPE)
    assert client.get(f"{BASE}nothing.json")["Content-Type"] == JSON_TYPE
    assert xml(client.get(f"{BASE}services.csv")).findtext("error/code") == "404"
    response = client.put(f"{BASE}services.json")
    assert response.status_code == 405
    assert errors_of(response)[0]["code"] == 405
    assert client.post(f"{BASE}services.json").status_code == 405


# --- GET requests ---------------------------------------------------------------------


def _posted(client: Client, key: str, **changes: str) -> ServiceRequest:
    response = post(client, **good_form(key, **changes))
    assert response.status_code == 200, response.content
    return ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["service_request_id"] for r in response.json()]


def test_requests_filter_by_id_service_status_and_dates(client, places, key):
    meals = _posted(client, key)
    repair = _posted(client, key, service_code="convenience_repair")
    old = _posted(client, key, service_code="convenience_repair")
    cancelled = _posted(client, key)
    request_transition(actor=None, request=cancelled, action=Action.CANCEL)
    long_ago = timezone.now() - dt.timedelta(days=100)
    ServiceRequest.objects.filter(pk=old.pk).update(created_at=long_ago)
    url = f"{BASE}requests.json"

    # The last 90 days by default, newest first.
    assert _ids(client.get(url)) == [
        cancelled.public_id,
        repair.public_id,
        meals.public_id,
    ]
    # Ids override every other filter, the 90 days included.
    assert set(
        _ids(
            client.get(
                url,
                {
                    "service_request_id": f"{old.public_id}, {meals.public_id},R000101-AAAAA",
                    "service_code": "convenience_parcel",
                    "status": "closed",
                },
            )
        )
    ) == {old.public_id, meals.public_id}
    assert _ids(client.get(url, {"service_code": "convenience_repair"})) == [repair.public_id]
    assert set(_ids(client.get(url, {"service_code": "convenience_repair,elderly_meals"}))) == {
        repair.public_id,
        meals.public_id,
        cancelled.public_id,
    }
    assert _ids(client.get(url, {"status": "closed"})) == [cancelled.public_id]
    assert set(_ids(client.get(url, {"status": "open"}))) == {repair.public_id, meals.public_id}
    assert len(_ids(client.get(url, {"status": "open,closed"}))) == 3
    start = (long_ago - dt.timedelta(days=1)).isoformat(timespec="seconds")
    end = (long_ago + dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(client.get(url, {"start_date": start, "end_date": end})) == [old.public_id]
    # A start alone reaches 90 days on; an end alone 90 days back.
    assert _ids(client.get(url, {"start_date": start})) == [old.public_id]
    assert _ids(client.get(url, {"end_date": end})) == [old.public_id]
    # The state of a closed request, in words.
    [record] = client.get(url, {"status": "closed"}).json()
    assert (record["status"], record["status_notes"]) == ("closed", "Cancelled")
    assert record["service_notice"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-02-30T10:00:00+08:00"}, "start_date"),
        ({"end_date": "2026-11-30"}, "end_date"),
        ({"end_date": "2026-11-30T10:00:00"}, "end_date"),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "end_date",
        ),
        (
            {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date",
        ),
        ({"status": "pending"}, "status"),
        ({"service_code": "no_such_service"}, "service_code"),
        ({"service_request_id": "'; DROP TABLE x; --"}, "service_request_id"),
        ({"service_request_id": ""}, "service_request_id"),
        ({"service_request_id": "R" * 30}, "service_request_id"),
    ],
)
def test_bad_filters_are_400s(client, places, query, parameter):
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}requests.{fmt}", query)
        assert response.status_code == 400, response.content
    errors = errors_of(client.get(f"{BASE}requests.json", query))
    assert errors[0]["description"].startswith(f"{parameter}: ")


def test_a_malformed_or_unknown_request_id(client, places):
    assert client.get(f"{BASE}requests/%3Cscript%3E.json").status_code == 400
    response = client.get(f"{BASE}requests/R000101-AAAAA.xml")
    assert response.status_code == 404
    assert xml(response).findtext("error/code") == "404"


def test_the_list_costs_the_same_queries_for_many_requests(
    client, places, key, django_assert_max_num_queries
):
    for _ in range(12):
        _posted(client, key)
    with django_assert_max_num_queries(4):
        assert len(_ids(client.get(f"{BASE}requests.json", {"api_key": key}))) == 12


# --- privacy ----------------------------------------------------------------------------


def test_public_answers_carry_no_personal_data(client, places, key, resident_request):
    partners = _posted(client, key)
    other_key = open311_partner_issue(name="另一个平台", region=places["home"].parent)[1]
    callers: list[dict[str, str]] = [{}, {"api_key": other_key}]
    for params in callers:
        for path in (
            "requests.json",
            "requests.xml",
            f"requests/{resident_request.public_id}.json",
            f"requests/{resident_request.public_id}.xml",
            f"requests/{partners.public_id}.json",
        ):
            response = client.get(BASE + path, params)
            assert response.status_code == 200, path
            body = response.content.decode("utf-8")
            for secret in (
                "王秀英",
                PHONE,
                HOME,
                SECRET,
                "30.00123",
                "120.00456",
                # The partner's own request: its caller, phone, words and point.
                "李秀英",
                "13800138000",
                "送午餐",
                "30.001,",
            ):
                assert secret not in body, (path, params, secret)
    [record] = client.get(f"{BASE}requests/{resident_request.public_id}.json").json()
    assert record["description"] is None
    assert record["address"] == "Xingfuli, Region 990102001000, Region 990102000000"
    assert (record["lat"], record["long"]) == (30.0, 120.0)
    # The partner reads its own request in full, and only that one.
    [own] = client.get(f"{BASE}requests/{partners.public_id}.json", {"api_key": key}).json()
    assert own["description"].startswith("老人腿脚不便")
    [theirs] = client.get(
        f"{BASE}requests/{resident_request.public_id}.json", {"api_key": key}
    ).json()
    assert theirs["description"] is None
    assert (theirs["lat"], theirs["long"]) == (30.0, 120.0)


def test_requests_for_sensitive_services_stay_out_of_public_answers(client, places, key):
    mine = _posted(client, key, service_code="medical_mental_health")
    for params in ({}, {"api_key": open311_partner_issue(name="B", region=places["home"])[1]}):
        assert _ids(client.get(f"{BASE}requests.json", params)) == []
        assert client.get(f"{BASE}requests/{mine.public_id}.json", params).status_code == 404
        assert client.get(f"{BASE}tokens/{mine.public_id}.json", params).status_code == 404
    assert _ids(client.get(f"{BASE}requests.json", {"api_key": key})) == [mine.public_id]


def test_the_responder_is_named_only_when_an_organization(client, places, key, resident_request):
    from linli.requests.services import request_assign
    from linli.requests.tests.factories import responder_create

    volunteer = responder_create(places["home"], "elderly_meals", name="张志愿")
    request_assign(actor=None, request=resident_request, responder=volunteer)
    [record] = client.get(f"{BASE}requests/{resident_request.public_id}.json").json()
    assert record["agency_responsible"] == "Volunteer"
    assert "张志愿" not in json.dumps(record, ensure_ascii=False)


# --- partner keys: command line and admin ------------------------------------------------


@pytest.fixture
def linli():
    from linli.core.registry import discover, linli_group

    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, list(args), catch_exceptions=False)


def test_the_command_line_issues_a_key_shown_once(linli, client, places):
    result = linli("open311", "issue-key", "--name", "街道平台", "--region", "990102001000")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    partner = Open311Partner.objects.get(name="街道平台")
    assert partner.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert partner.key_prefix == key[:8]
    assert partner.region_id == "990102001000"
    assert post(client, **good_form(key)).status_code == 200

    again = linli("open311", "issue-key", "--name", "街道平台", "--region", "990102001000")
    assert again.exit_code == 1
    assert "exists already" in again.output
    nowhere = linli("open311", "issue-key", "--name", "X", "--region", "990199999999")
    assert nowhere.exit_code == 1
    assert "No such region" in nowhere.output

    rotated = linli("open311", "rotate-key", "--name", "街道平台")
    assert rotated.exit_code == 0
    new_key = rotated.stdout.strip().splitlines()[-1]
    assert post(client, **good_form(key)).status_code == 403
    assert post(client, **good_form(new_key)).status_code == 200


def test_the_admin_issues_a_key_and_shows_it_once(places):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(admin)
    response = browser.post(
        "/admin/requests/open311partner/add/",
        {"name": "区级平台", "region": "990102001000", "active": "on"},
    )
    assert response.status_code == 200
    key = response.context["key"]
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    partner = Open311Partner.objects.get(name="区级平台")
    assert partner.key_hash == hashlib.sha256(key.encode()).hexdigest()
    change = browser.get(f"/admin/requests/open311partner/{partner.pk}/change/")
    assert change.status_code == 200
    assert key not in change.content.decode()
    assert partner.key_prefix in change.content.decode()

    rotated = browser.post(
        "/admin/requests/open311partner/",
        {"action": "issue_new_key", "_selected_action": [partner.pk]},
    )
    assert rotated.status_code == 200
    new_key = rotated.context["key"]
    partner.refresh_from_db()
    assert new_key != key
    assert partner.key_hash == hashlib.sha256(new_key.encode()).hexdigest()
    for path in ("/admin/requests/responder/", "/admin/requests/servicelevel/add/"):
        assert browser.get(path).status_code == 200


def test_the_admin_keeps_requests_out(places):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    assert browser.get("/admin/requests/servicerequest/").status_code == 404


def test_on_the_demo_district_a_partner_posts_and_reads_back(demo, client):
    from linli.regions.choices import RegionLevel
    from linli.regions.models import Region

    village = Region.objects.filter(level=RegionLevel.COMMUNITY, lat__isnull=False).first()
    assert village is not None
    assert village.parent is not None
    key = open311_partner_issue(name="演示热线", region=village.parent)[1]
    services = client.get(f"{BASE}services.json").json()
    assert any(s["service_code"] == "elderly_bathing" for s in services)
    response = post(
        client,
        api_key=key,
        service_code="elderly_bathing",
        lat=str(village.lat),
        long=str(village.lon),
        description="需要上门助浴",
        **{"attribute[mobility]": "wheelchair"},
    )
    assert response.status_code == 200, response.content
    public_id = response.json()[0]["service_request_id"]
    [mine] = client.get(f"{BASE}requests/{public_id}.json", {"api_key": key}).json()
    assert mine["address_id"] == village.code
    root = xml(client.get(f"{BASE}requests.xml", {"service_request_id": public_id}))
    assert root.findtext("request/service_request_id") == public_id
    assert root.findtext("request/description") == ""
