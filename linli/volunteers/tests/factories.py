"""Small builders the people, redemption and page tests share: a community worker, a
resident of a given age with an account."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.regions.models import Region
from linli.residents.models import Resident
from linli.residents.services import ResidentInput, resident_register


def keeper(region: Region) -> User:
    """A community worker of `region`."""
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=region)
    return user


def years_ago(years: int) -> dt.date:
    """A birth date that makes someone `years` old today (and a day)."""
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=1)


def resident(community: Region, name: str, years: int = 40, account: bool = True) -> Resident:
    person = resident_register(
        actor=None,
        data=ResidentInput(name=name, community=community, birth_date=years_ago(years)),
    )
    if account:
        person.user = UserFactory.create()
        person.save()
    return person
