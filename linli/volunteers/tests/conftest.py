"""Fixtures shared by the volunteers tests: a community, its worker, people with
time-bank accounts, an organization, an older resident. Keep it small."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.models import Organization
from linli.directory.tests.factories import OrganizationFactory
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.models import Resident
from linli.residents.services import ResidentInput, resident_register
from linli.volunteers.ledger import person_account
from linli.volunteers.models import Account, Movement, Transfer

LedgerState = tuple[int, int, tuple[tuple[int, Decimal], ...]]


@pytest.fixture
def community(db) -> Region:
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def worker(community) -> User:
    """The community's worker."""
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def volunteer_user(db) -> User:
    """A person with a (still empty) time-bank account."""
    user = UserFactory.create()
    person_account(user)
    return user


@pytest.fixture
def other_user(db) -> User:
    """A second person with a time-bank account."""
    user = UserFactory.create()
    person_account(user)
    return user


@pytest.fixture
def organization(db) -> Organization:
    return OrganizationFactory.create()


@pytest.fixture
def resident(community) -> Resident:
    """A resident of the community, with a user account."""
    person = resident_register(
        actor=None,
        data=ResidentInput(name="王秀英", community=community, address="幸福里3号"),
    )
    person.user = UserFactory.create()
    person.save()
    return person


@pytest.fixture
def ledger_state(db) -> Callable[[], LedgerState]:
    """A function giving the ledger as it stands (transfers, movements, every balance),
    to assert that a refused operation left it untouched."""

    def state() -> LedgerState:
        balances = tuple(Account.objects.order_by("pk").values_list("pk", "balance"))
        return Transfer.objects.count(), Movement.objects.count(), balances

    return state
