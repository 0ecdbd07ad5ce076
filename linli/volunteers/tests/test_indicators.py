"""Volunteer indicators: exact figures on a small county, rolled up the region tree."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import ValidationFailed
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.services import ResidentInput, resident_anonymize, resident_register
from linli.volunteers.choices import TransferKind, VolunteerStatus
from linli.volunteers.indicators import Month, parse_month, volunteer_indicators
from linli.volunteers.ledger import (
    community_pool,
    person_account,
    timebank_credit,
    timebank_donate,
    timebank_reverse,
)
from linli.volunteers.models import Volunteer

TZ = dt.timezone(dt.timedelta(hours=8))
MARCH, APRIL = Month(2025, 3), Month(2025, 4)
C1, C2, C3, OUTSIDE = "990102001001", "990102001002", "990102002001", "980101001001"
STREET1, STREET2, COUNTY = "990102001000", "990102002000", "990102000000"


@contextmanager
def booked_at(year: int, month: int, day: int, hour: int = 0, minute: int = 0):
    """Book at a given local time. Transfers are append-only (the database refuses to
    change a booking's time afterwards), so the clock is set while booking."""
    moment = dt.datetime(year, month, day, hour, minute, tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def volunteer_in(code, status=VolunteerStatus.VERIFIED, verified_at=None, name="志愿者"):
    return Volunteer.objects.create(
        user=UserFactory.create(),
        name=name,
        community_id=code,
        status=status,
        verified_at=verified_at,
    )


def earn(volunteer, amount, kind=TransferKind.ACTIVITY_HOURS):
    return timebank_credit(
        account=person_account(volunteer.user),
        amount=Decimal(amount),
        kind=kind,
        actor=None,
        community=volunteer.community,
        earned_by=volunteer.user,
    )


def residents(code, count):
    community = Region.objects.get(code=code)
    return [
        resident_register(
            actor=None, data=ResidentInput(name=f"居民{code[-3:]}{i}", community=community)
        )
        for i in range(count)
    ]


@pytest.fixture
def county(db):
    """Two streets: C1 and C2 in the first, C3 in the second; a community outside."""
    for code in (C1, C2, C3, OUTSIDE):
        region_chain(code)
    residents(C1, 4)
    resident_anonymize(resident=residents(C2, 3)[0])
    residents(C3, 5)
    residents(OUTSIDE, 3)

    a = volunteer_in(C1, verified_at=dt.datetime(2025, 2, 1, tzinfo=TZ), name="甲")
    b = volunteer_in(C1, name="乙")
    volunteer_in(C1, status=VolunteerStatus.PENDING, name="丙")
    d = volunteer_in(C2, verified_at=dt.datetime(2025, 4, 10, tzinfo=TZ), name="丁")
    e = volunteer_in(C3, status=VolunteerStatus.SUSPENDED, name="戊")
    f = volunteer_in(OUTSIDE, name="己")

    with booked_at(2025, 3, 1, 0, 5):
        earn(a, "3.00")
    with booked_at(2025, 3, 31, 23, 30):
        earn(a, "1.00")
    with booked_at(2025, 3, 20, 10):
        earn(a, "0.50", kind=TransferKind.REQUEST_HOURS)
        # A donation moves hours; it earns none.
        timebank_donate(
            source=person_account(a.user),
            target=community_pool(a.community),
            amount=Decimal("2.00"),
            actor=a.user,
        )
    with booked_at(2025, 3, 10, 9):
        wrong = earn(b, "2.00")
    with booked_at(2025, 4, 2, 9):
        # Corrected in April: March's figure is what still stands of March.
        timebank_reverse(transfer=wrong, actor=None, memo="not there")
    with booked_at(2025, 4, 1, 0, 10):
        earn(d, "4.00")
    with booked_at(2025, 2, 28, 23, 50):
        earn(d, "9.00")
    with booked_at(2025, 3, 15, 14):
        earn(e, "1.50")
    with booked_at(2025, 3, 3, 8):
        earn(f, "5.00")


def figures(row):
    return (row.region.code, row.volunteers, row.residents, row.share, row.hours, row.active)


def test_march_by_street(county):
    found = volunteer_indicators(region=Region.objects.get(code=COUNTY), month=MARCH)
    assert figures(found.totals) == (
        COUNTY,
        2,
        11,
        Decimal("0.1818"),
        Decimal("6.00"),
        2,
    )
    assert [figures(row) for row in found.children] == [
        (STREET1, 2, 6, Decimal("0.3333"), Decimal("4.50"), 1),
        (STREET2, 0, 5, Decimal("0.0000"), Decimal("1.50"), 1),
    ]


def test_march_by_community(county):
    found = volunteer_indicators(region=Region.objects.get(code=STREET1), month=MARCH)
    assert [figures(row) for row in found.children] == [
        (C1, 2, 4, Decimal("0.5000"), Decimal("4.50"), 1),
        (C2, 0, 2, Decimal("0.0000"), Decimal("0.00"), 0),
    ]
    assert found.totals.share_percent == Decimal("33.33")


def test_april_counts_a_volunteer_verified_in_april(county):
    found = volunteer_indicators(region=Region.objects.get(code=COUNTY), month=APRIL)
    assert figures(found.totals) == (COUNTY, 3, 11, Decimal("0.2727"), Decimal("4.00"), 1)
    assert [figures(row) for row in found.children] == [
        (STREET1, 3, 6, Decimal("0.5000"), Decimal("4.00"), 1),
        (STREET2, 0, 5, Decimal("0.0000"), Decimal("0.00"), 0),
    ]


def test_a_community_has_no_children(county):
    found = volunteer_indicators(region=Region.objects.get(code=C3), month=MARCH)
    assert figures(found.totals) == (C3, 0, 5, Decimal("0.0000"), Decimal("1.50"), 1)
    assert found.children == []


def test_higher_up_the_tree_adds_the_other_tree_apart(county):
    city = volunteer_indicators(region=Region.objects.get(code="990100000000"), month=MARCH)
    assert [figures(row) for row in city.children] == [
        (COUNTY, 2, 11, Decimal("0.1818"), Decimal("6.00"), 2)
    ]
    outside = volunteer_indicators(region=Region.objects.get(code="980000000000"), month=MARCH)
    assert figures(outside.totals) == ("980000000000", 1, 3, Decimal("0.3333"), Decimal("5.00"), 1)


def test_no_residents_no_share(db):
    region_chain("970101001001")
    found = volunteer_indicators(region=Region.objects.get(code="970101001001"), month=MARCH)
    assert (found.totals.share, found.totals.share_percent) == (None, None)


def test_aggregate_queries_however_many_volunteers(county, django_assert_num_queries):
    for _ in range(5):
        earn(volunteer_in(C1), "1.00")
    street = Region.objects.get(code=STREET1)
    # Volunteers, residents, hours, active volunteers, and the street's communities.
    with django_assert_num_queries(5):
        volunteer_indicators(region=street, month=Month.current())


def test_month_bounds_are_local_midnight():
    assert MARCH.start == dt.datetime(2025, 3, 1, tzinfo=TZ)
    assert MARCH.end == dt.datetime(2025, 4, 1, tzinfo=TZ)
    assert Month(2024, 12).end == dt.datetime(2025, 1, 1, tzinfo=TZ)
    assert (str(Month(2025, 1).previous()), str(Month(2024, 12).following())) == (
        "2024-12",
        "2025-01",
    )


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "March", "2025-3", "1999-12"])
def test_bad_months_are_refused(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_month(text)
    assert list(refused.value.fields) == ["month"]


def test_future_month_refused_and_empty_is_this_month():
    today = timezone.localdate()
    assert parse_month("") == Month(today.year, today.month)
    assert parse_month(f"{today:%Y-%m}") == Month(today.year, today.month)
    ahead = Month(today.year, today.month).following()
    with pytest.raises(ValidationFailed) as refused:
        parse_month(str(ahead))
    assert refused.value.fields["month"] == ["This month has not come yet."]
