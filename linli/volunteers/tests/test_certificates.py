"""Service record certificates: frozen content from the ledger, a random code, a real PDF."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.requests.services import RequestInput, request_create
from linli.residents.services import ResidentInput, resident_register
from linli.volunteers.certificates import (
    CODE_ALPHABET,
    CODE_LENGTH,
    certificate_find,
    certificate_issue,
    certificate_pdf,
    grouped_code,
)
from linli.volunteers.choices import SignupStatus, TransferKind, VolunteerStatus
from linli.volunteers.ledger import person_account, timebank_credit, timebank_reverse
from linli.volunteers.models import Activity, Attendance, Certificate, Signup, Volunteer

TZ = dt.timezone(dt.timedelta(hours=8))


def make_activity(community, organizer, *, title, day, organization=None):
    starts = dt.datetime.combine(day, dt.time(9), tzinfo=TZ)
    return Activity.objects.create(
        title=title,
        community=community,
        organization=organization,
        created_by=organizer,
        address="幸福里活动室",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        capacity=10,
    )


def earn(volunteer, amount, *, activity=None, request=None, actor=None):
    return timebank_credit(
        account=person_account(volunteer.user),
        amount=Decimal(amount),
        kind=TransferKind.REQUEST_HOURS if request else TransferKind.ACTIVITY_HOURS,
        actor=actor,
        community=volunteer.community,
        earned_by=volunteer.user,
        activity_id=activity.pk if activity else None,
        request_id=request.pk if request else None,
    )


@pytest.fixture
def volunteer(community, organization):
    user = UserFactory.create(last_name="李", first_name="明华")
    return Volunteer.objects.create(
        user=user,
        name="李明华",
        community=community,
        organization=organization,
        status=VolunteerStatus.VERIFIED,
    )


@pytest.fixture
def certifier(worker):
    worker.last_name, worker.first_name = "张", "社工"
    worker.save()
    return worker


@pytest.fixture
def served(community):
    return resident_register(
        actor=None, data=ResidentInput(name="王秀英", community=community, address="幸福里3号")
    )


@pytest.fixture
def record(taxonomy, community, organization, volunteer, certifier, served):
    """3.00 h at an organization's visit (certified at attendance), 2.50 h net at a
    community clean-up (booked by the worker, 1.00 h of it corrected), a fully
    corrected activity, 1.50 h for a request, 0.50 h for neither: 7.50 h."""
    visit = make_activity(
        community, certifier, title="敬老院探访", day=dt.date(2025, 3, 8), organization=organization
    )
    signup = Signup.objects.create(
        activity=visit, volunteer=volunteer, status=SignupStatus.CONFIRMED
    )
    Attendance.objects.create(
        signup=signup,
        method="organizer",
        checked_in_at=visit.starts_at,
        checked_out_at=visit.ends_at,
        hours=Decimal("3.00"),
        recorded_by=certifier,
        certified_by=certifier,
        certified_at=visit.ends_at,
    )
    earn(volunteer, "3.00", activity=visit)
    clean_up = make_activity(community, certifier, title="社区清扫", day=dt.date(2025, 4, 12))
    earn(volunteer, "2.50", activity=clean_up, actor=certifier)
    twice = earn(volunteer, "1.00", activity=clean_up, actor=certifier)
    timebank_reverse(transfer=twice, actor=certifier, memo="recorded twice")
    cancelled = make_activity(community, certifier, title="取消的活动", day=dt.date(2025, 5, 1))
    timebank_reverse(
        transfer=earn(volunteer, "4.00", activity=cancelled), actor=certifier, memo="cancelled"
    )
    meal = request_create(
        actor=certifier, data=RequestInput(service="elderly_meals", person=served)
    )
    earn(volunteer, "1.50", request=meal)
    earn(volunteer, "0.50")
    return {"visit": visit, "clean_up": clean_up, "meal": meal}


def test_content_lists_hours_by_activity_and_request(volunteer, record, community, organization):
    certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    content = certificate.content
    today = timezone.localdate().isoformat()
    meal = record["meal"]
    assert content == {
        "version": 1,
        "code": certificate.code,
        "name": "李明华",
        "community": {"zh-hans": community.name, "en": community.name_en},
        "community_code": community.code,
        "organization": organization.name,
        "period": {"from": "2025-03-08", "to": max(today, "2025-04-12")},
        "activities": [
            {
                "title": "敬老院探访",
                "date": "2025-03-08",
                "organizer": {"zh-hans": organization.name},
                "hours": "3.00",
                "certified_by": "张社工",
            },
            {
                "title": "社区清扫",
                "date": "2025-04-12",
                "organizer": {"zh-hans": community.name, "en": community.name_en},
                "hours": "2.50",
                "certified_by": "张社工",
            },
        ],
        "requests": [
            {
                "public_id": meal.public_id,
                "service": {"zh-hans": meal.service.name, "en": meal.service.name_en},
                "date": today,
                "hours": "1.50",
            }
        ],
        "totals": {
            "activities": "5.50",
            "requests": "1.50",
            "other": "0.50",
            "hours": "7.50",
            "activity_count": 2,
            "request_count": 1,
        },
        "issued_at": certificate.issued_at.isoformat(),
    }
    assert certificate.total_hours == Decimal("7.50")


def test_code_is_random_from_an_unambiguous_alphabet(volunteer, record):
    first = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    second = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    for code in (first.code, second.code):
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OIL")
    assert first.code != second.code
    assert grouped_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


def test_content_is_frozen_when_issued(volunteer, record):
    certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    earn(volunteer, "10.00", activity=record["visit"])
    certificate.refresh_from_db()
    assert certificate.content["totals"]["hours"] == "7.50"
    assert certificate_issue(volunteer=volunteer, actor=volunteer.user).content["totals"][
        "hours"
    ] == ("17.50")


def test_only_the_volunteer_asks_and_only_with_hours(volunteer, record, certifier, community):
    with pytest.raises(PermissionDenied):
        certificate_issue(volunteer=volunteer, actor=certifier)
    newcomer = Volunteer.objects.create(
        user=UserFactory.create(), name="新人", community=community, status="verified"
    )
    with pytest.raises(ValidationFailed) as none:
        certificate_issue(volunteer=newcomer, actor=newcomer.user)
    assert list(none.value.fields) == ["volunteer"]
    assert Certificate.objects.count() == 0


def test_find_by_code_as_typed(volunteer, record):
    certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    typed = grouped_code(certificate.code).lower()
    assert certificate_find(typed) == certificate
    assert certificate_find(f" {certificate.code} ") == certificate
    assert certificate_find("ABCDEFGHJKMN") is None
    assert certificate_find("0000") is None
    assert certificate_find("") is None


def test_pdf_is_a_pdf_with_the_code(volunteer, record):
    certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    pdf = certificate_pdf(certificate, base="https://linli.example.cn/")
    assert pdf.startswith(b"%PDF-")
    assert certificate.code.encode() in pdf
    assert pdf.rstrip().endswith(b"%%EOF")


def test_nothing_sensitive_is_logged(volunteer, record, caplog):
    with caplog.at_level(logging.DEBUG):
        certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
        certificate_find(certificate.code)
        certificate_pdf(certificate)
    assert certificate.code not in caplog.text
    assert "李明华" not in caplog.text
    assert "7.50" not in caplog.text
